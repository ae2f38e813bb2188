// The shopshot chat page: one simulated Telegram user per tab, talking to the bot through the stand-in.
// It reads the chat from /_playground/users/<id>/events (server-sent events) and acts through the
// stand-in's control API, so the page holds no state of its own beyond what it last drew.
"use strict";

const $ = (id) => document.getElementById(id);
const chat = $("chat");
const list = $("messages");
const ALBUM_MAX = 10;

const page = {
  user: chooseUser(),
  language: new URLSearchParams(location.search).get("lang") || "en",
  views: new Map(),   // message id -> the view last received
  rows: new Map(),    // row key -> element; an album is one row
  commands: [],
  source: null,
  stick: true,        // keep the newest message in sight until the reader scrolls away from it
  reading: false,     // the reader is moving the chat: their scrolls, not ours, decide `stick`
};

function chooseUser() {
  const asked = Number(new URLSearchParams(location.search).get("user"));
  return Number.isInteger(asked) && asked > 0 ? asked : 100000 + Math.floor(Math.random() * 900000);
}

// ---- The live chat ------------------------------------------------------------------------------

function connect() {
  if (page.source) page.source.close();
  const url = `/_playground/users/${page.user}/events?lang=${encodeURIComponent(page.language)}`;
  const source = new EventSource(url);
  const on = (name, handle) => source.addEventListener(name, (event) => handle(JSON.parse(event.data)));
  on("snapshot", showSnapshot);
  on("upsert", (view) => following(() => upsert(view)));
  on("delete", ({ id }) => following(() => remove(id)));
  on("answer", (answer) => toast(answer.text, answer.show_alert));
  on("commands", setCommands);
  source.onopen = () => setStatus("bot", true);
  source.onerror = () => setStatus("connecting…", false);
  page.source = source;
}

// Each change keeps the newest message in sight, unless the reader has scrolled away to read.
function following(change) {
  change();
  settle();
}

function showSnapshot(snapshot) {
  $("bot-name").textContent = snapshot.bot.first_name;
  page.views.clear();
  page.rows.clear();
  list.replaceChildren();
  snapshot.messages.forEach(upsert);
  $("empty").hidden = page.views.size > 0;
  setCommands(snapshot.commands);
  page.stick = true;
  settle();
  document.body.dataset.ready = "true";
}

function setStatus(text, online) {
  $("status").textContent = text;
  $("status").classList.toggle("online", online);
}

function upsert(view) {
  page.views.set(view.id, view);
  const key = rowKey(view);
  const row = page.rows.get(key) || newRow(key, view);
  fillRow(row, key);
}

function remove(id) {
  const view = page.views.get(id);
  if (!view) return;
  page.views.delete(id);
  fillRow(page.rows.get(rowKey(view)), rowKey(view));
}

function rowKey(view) {
  return view.media_group_id ? `g${view.media_group_id}` : `m${view.id}`;
}

function newRow(key, view) {
  const row = element("div", `row ${view.from_bot ? "in" : "out"}`);
  const next = [...list.children].find((other) => Number(other.dataset.first) > view.id);
  list.insertBefore(row, next || null);
  page.rows.set(key, row);
  return row;
}

// Rows are refilled, never replaced: an edited message changes in place.
function fillRow(row, key) {
  const views = [...page.views.values()].filter((view) => rowKey(view) === key).sort((a, b) => a.id - b.id);
  if (!views.length) {
    row.remove();
    page.rows.delete(key);
  } else {
    row.dataset.first = views[0].id;
    row.replaceChildren(bubble(views), ...views.map(keyboard).filter(Boolean));
  }
  $("empty").hidden = page.views.size > 0;
}

// ---- Drawing messages ---------------------------------------------------------------------------

function bubble(views) {
  const box = element("div", "bubble");
  const last = views[views.length - 1];
  if (views.length === 1 && !last.media_group_id) box.dataset.messageId = last.id;
  const captioned = views.find((view) => view.text);
  const pictures = views.every((view) => view.photo);
  if (pictures) {
    box.classList.add("media");
    box.append(views.length > 1 ? grid(views) : photo(last));
  } else if (views.some((view) => view.document)) {
    box.append(files(views));
  } else if (last.invoice) {
    box.append(invoice(last.invoice));
  } else if (last.payment) {
    box.append(element("span", "payment", `${last.kind === "refunded_payment" ? "↩️ Refunded" : "✅ Paid"} ⭐ ${last.payment.total_amount}`));
  } else if (!captioned) {
    box.append(element("span", "other", `[${last.kind}]`));
  }
  if (!captioned) {
    box.append(meta(last, pictures));
    return box;
  }
  const text = pictures ? element("div", "caption") : box;
  text.dir = "auto";  // an Arabic message reads right to left; an album's pictures keep their order
  text.append(formatted(captioned.text, captioned.entities), meta(last, false));
  if (text !== box) box.append(text);
  return box;
}

function grid(views) {
  const cells = element("div", "grid");
  for (const view of views) {
    const cell = element("div", "cell");
    cell.dataset.messageId = view.id;
    cell.append(photo(view));
    cells.append(cell);
  }
  return cells;
}

function photo(view) {
  const image = element("img", "photo");
  Object.assign(image, { src: fileUrl(view.photo.file_id), width: view.photo.width, height: view.photo.height, alt: "Photo" });
  image.dataset.fileId = view.photo.file_id;
  image.addEventListener("load", settle);
  image.addEventListener("click", () => openViewer(image.src));
  return image;
}

function files(views) {
  const box = element("div", "files");
  for (const view of views.filter((item) => item.document)) {
    const doc = view.document;
    const name = doc.file_name || "file";
    const link = element("a", "file");
    Object.assign(link, { href: fileUrl(doc.file_id), download: name, title: `Download ${name}` });
    link.dataset.messageId = view.id;
    link.dataset.fileId = doc.file_id;
    const extension = name.includes(".") ? name.split(".").pop().slice(0, 4).toUpperCase() : "FILE";
    const text = element("span", "file-text");
    const fileName = element("span", "file-name", name);
    fileName.dir = "auto";
    text.append(fileName, element("span", "file-size", size(doc.file_size)));
    link.append(element("span", "file-icon", extension), text);
    box.append(link);
  }
  return box;
}

function invoice(details) {
  const card = element("div", "invoice");
  card.dir = "auto";
  card.append(element("strong", "invoice-title", details.title), element("div", "invoice-description", details.description),
              element("div", "invoice-price", `⭐ ${details.total_amount}`));
  return card;
}

function meta(view, onMedia) {
  const time = new Date(view.date * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return element("span", onMedia ? "meta on-media" : "meta", view.edited ? `edited ${time}` : time);
}

function keyboard(view) {
  if (!view.keyboard.length) return null;
  const box = element("div", "keyboard");
  box.dataset.messageId = view.id;
  for (const buttons of view.keyboard) {
    const row = element("div", "keyboard-row");
    buttons.forEach((button) => row.append(key(view, button)));
    box.append(row);
  }
  return box;
}

function key(view, button) {
  const node = element("button", "key", button.text);
  node.type = "button";
  node.dir = "auto";
  node.title = button.text;
  if (button.callback_data !== undefined) {
    node.addEventListener("click", () => press(view.id, button.callback_data));
  } else if (button.pay) {
    node.textContent = `Pay ⭐ ${view.invoice ? view.invoice.total_amount : ""}`.trim();
    node.addEventListener("click", () => pay(view.id));
  } else if (/^https?:/.test(button.url || "")) {
    node.addEventListener("click", () => window.open(button.url, "_blank", "noopener"));
  } else {
    node.disabled = true;  // login, web app, inline query: not part of the local stand-in
  }
  return node;
}

// Text with Telegram entities (offsets in UTF-16 code units, which is what JavaScript strings count).
function formatted(text, entities) {
  const sorted = [...entities].sort((a, b) => a.offset - b.offset || b.length - a.length);
  return span(text, 0, text.length, sorted);
}

function span(text, start, end, entities) {
  const fragment = document.createDocumentFragment();
  let position = start;
  for (let i = 0; i < entities.length;) {
    const entity = entities[i];
    const stop = Math.min(entity.offset + entity.length, end);
    let j = i + 1;
    while (j < entities.length && entities[j].offset < stop) j += 1;
    if (entity.offset > position) fragment.append(plain(text.slice(position, entity.offset)));
    const from = Math.max(entity.offset, position);
    const node = entityNode(entity, text.slice(from, stop));
    node.append(span(text, from, stop, entities.slice(i + 1, j)));
    fragment.append(node);
    position = stop;
    i = j;
  }
  if (position < end) fragment.append(plain(text.slice(position, end)));
  return fragment;
}

const TAGS = { bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "pre", blockquote: "blockquote", expandable_blockquote: "blockquote" };

function entityNode(entity, covered) {
  if (TAGS[entity.type]) return document.createElement(TAGS[entity.type]);
  if (entity.type === "spoiler") {
    const node = element("span", "spoiler");
    node.addEventListener("click", () => node.classList.add("shown"));
    return node;
  }
  if (entity.type === "bot_command") return commandLink(covered, false);
  const url = entity.type === "text_link" ? entity.url : entity.type === "url" ? covered : "";
  if (!/^https?:/i.test(url || "")) return document.createElement("span");
  return Object.assign(document.createElement("a"), { href: url, target: "_blank", rel: "noopener" });
}

// A command's edges may be invisible bidi marks: translations put U+200F before a right-to-left line's
// first /command. After one may also come Arabic punctuation.
const COMMAND = /(?<=^|[\s\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069])(\/[A-Za-z0-9_]{1,32})(?=$|[\s.,!?;:)\u060c\u061b\u061f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069])/;

// Telegram's apps make /commands in a bot's text tappable even without entities.
function plain(text) {
  const fragment = document.createDocumentFragment();
  const parts = text.split(COMMAND);
  parts.forEach((part, index) => fragment.append(index % 2 ? commandLink(part, true) : part));
  return fragment;
}

function commandLink(command, withText) {
  const node = element("span", "command", withText ? command : "");
  node.dir = "ltr";  // read as typed, "/help", even inside a right-to-left line
  node.addEventListener("click", () => sendText(command.trim()));
  return node;
}

// ---- Acting as the user -------------------------------------------------------------------------

async function sendText(text) {
  await post(`/_control/users/${page.user}/text`, JSON.stringify({ text, language_code: page.language }));
}

async function press(messageId, data) {
  const body = { message_id: messageId, data, language_code: page.language };
  await post(`/_control/users/${page.user}/press`, JSON.stringify(body));
}

// The stand-in has Stars enough for any invoice: paying asks the bot's pre-checkout answer, as Telegram does.
async function pay(messageId) {
  const body = JSON.stringify({ message_id: messageId, language_code: page.language });
  try {
    const response = await fetch(`/_control/users/${page.user}/pay`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) toast(`Not paid: ${answer.error || response.statusText}`);
    else if (!answer.paid) toast(`Not paid: ${answer.error_message}`);
  } catch (error) {
    toast(`The local server is not answering (${error.message}).`);
  }
}

// Several pictures at once become albums of up to ten, as Telegram's apps send them.
async function sendFiles(files, asPhotos) {
  const field = asPhotos ? "photo" : "document";
  for (let start = 0; start < files.length; start += ALBUM_MAX) {
    const chunk = files.slice(start, start + ALBUM_MAX);
    const form = new FormData();
    form.append("language_code", page.language);
    chunk.forEach((file) => form.append(field, file, file.name));
    // The bot checks a file's MIME type; what the browser cannot name, the stand-in guesses from the name.
    if (chunk.length === 1 && !asPhotos && !/^$|octet-stream/.test(chunk[0].type)) form.append("mime_type", chunk[0].type);
    const album = asPhotos ? `/_control/users/${page.user}/album` : `/_playground/users/${page.user}/documents`;
    await post(chunk.length === 1 ? `/_control/users/${page.user}/${field}` : album, form);
  }
}

async function post(url, body) {
  const headers = typeof body === "string" ? { "Content-Type": "application/json" } : {};
  try {
    const response = await fetch(url, { method: "POST", headers, body });
    if (!response.ok) toast(`Not sent: ${(await response.json().catch(() => ({}))).error || response.statusText}`);
  } catch (error) {
    toast(`The local server is not answering (${error.message}).`);
  }
}

// ---- The composer, menus and the header ---------------------------------------------------------

function setCommands(commands) {
  page.commands = commands;
  $("menu").hidden = !commands.length;
  showCommands($("commands").hidden ? null : "");
}

// filter: null hides the list; a string shows the commands starting with it.
function showCommands(filter) {
  const popup = $("commands");
  const shown = filter === null ? [] : page.commands.filter((item) => `/${item.command}`.startsWith(filter || "/"));
  popup.replaceChildren(...shown.map((item) => {
    const button = element("button", "");
    button.type = "button";
    const description = element("span", "description", item.description);
    description.dir = "auto";
    button.append(element("span", "name", `/${item.command}`), description);
    button.addEventListener("click", () => { showCommands(null); $("text").value = ""; sendText(`/${item.command}`); });
    return button;
  }));
  popup.hidden = !shown.length;
}

function setUpComposer() {
  const text = $("text");
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = text.value.trim();
    text.value = "";
    fitText();
    showCommands(null);
    if (value) sendText(value);
  });
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  text.addEventListener("input", () => {
    fitText();
    showCommands(/^\/\w*$/.test(text.value) ? text.value : null);
  });
  $("menu").addEventListener("click", () => showCommands($("commands").hidden ? "" : null));
  $("start").addEventListener("click", () => sendText("/start"));
}

function fitText() {
  const text = $("text");
  text.style.height = "auto";
  text.style.height = `${text.scrollHeight}px`;
}

function setUpAttachments() {
  const menu = $("attach-menu");
  $("attach").addEventListener("click", () => { menu.hidden = !menu.hidden; });
  for (const button of menu.querySelectorAll("[data-pick]")) {
    button.addEventListener("click", () => { menu.hidden = true; $(`pick-${button.dataset.pick}`).click(); });
  }
  for (const [id, asPhotos] of [["pick-photo", true], ["pick-file", false]]) {
    $(id).addEventListener("change", async (event) => {
      const picked = [...event.target.files];
      event.target.value = "";
      await sendFiles(picked, asPhotos);
    });
  }
  document.addEventListener("click", (event) => {
    if (!event.target.closest("#attach, #attach-menu")) menu.hidden = true;
    if (!event.target.closest("#menu, #commands, #text")) showCommands(null);
  });
  setUpDropping();
}

// Dropped pictures go as photos, anything else as files.
function setUpDropping() {
  chat.addEventListener("dragover", (event) => { event.preventDefault(); chat.classList.add("dropping"); });
  chat.addEventListener("dragleave", () => chat.classList.remove("dropping"));
  chat.addEventListener("drop", (event) => {
    event.preventDefault();
    chat.classList.remove("dropping");
    const dropped = [...event.dataTransfer.files];
    if (dropped.length) sendFiles(dropped, dropped.every((file) => file.type.startsWith("image/")));
  });
}

function setUpHeader() {
  const userInput = $("user-id");
  userInput.value = page.user;
  userInput.addEventListener("change", () => {
    const wanted = Number(userInput.value);
    if (Number.isInteger(wanted) && wanted > 0) location.search = query(wanted, page.language);
  });
  const language = $("language");
  if (![...language.options].some((option) => option.value === page.language)) language.add(new Option(page.language, page.language));
  language.value = page.language;
  language.addEventListener("change", () => {
    page.language = language.value;
    rememberInUrl();
    connect();  // the command menu is per language
  });
  rememberInUrl();
}

function rememberInUrl() {
  history.replaceState(null, "", `?${query(page.user, page.language)}`);
  $("new-user").href = `/?lang=${encodeURIComponent(page.language)}`;
  document.title = `shopshot · user ${page.user}`;
}

function query(user, language) {
  return new URLSearchParams({ user: String(user), lang: language }).toString();
}

// ---- Small things -------------------------------------------------------------------------------

let toastTimer = null;

function toast(text, alert = false) {
  const box = $("toast");
  box.textContent = text;
  box.classList.toggle("alert", alert);
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = alert ? null : setTimeout(() => { box.hidden = true; }, 2500);
}

function openViewer(src) {
  $("viewer").querySelector("img").src = src;
  $("viewer").hidden = false;
}

function atBottom() {
  return chat.scrollHeight - chat.scrollTop - chat.clientHeight < 80;
}

function settle() {
  if (!page.stick) return;
  page.reading = false;
  chat.scrollTop = chat.scrollHeight;
}

function fileUrl(fileId) {
  return `/_playground/files/${encodeURIComponent(fileId)}`;
}

function size(bytes) {
  if (!bytes && bytes !== 0) return "";
  const units = ["B", "KB", "MB", "GB"];
  const power = Math.min(Math.floor(Math.log(Math.max(bytes, 1)) / Math.log(1024)), units.length - 1);
  return `${(bytes / 1024 ** power).toFixed(power ? 1 : 0)} ${units[power]}`;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// Content arriving also scrolls; only the reader's own scrolling lets go of the newest message.
for (const name of ["wheel", "touchmove", "keydown", "pointerdown"]) {
  chat.addEventListener(name, () => { page.reading = true; }, { passive: true });
}
chat.addEventListener("scroll", () => { page.stick = atBottom() || (page.stick && !page.reading); });
window.addEventListener("resize", settle);
$("toast").addEventListener("click", () => { $("toast").hidden = true; });
$("viewer").addEventListener("click", () => { $("viewer").hidden = true; });
setUpHeader();
setUpComposer();
setUpAttachments();
connect();
