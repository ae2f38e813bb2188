"""What a chat page shows: messages as flat views, the bot's command menu, and what changed since
the page last looked."""

import json
from typing import Any

from shopshot.playground._state import CallbackRecord, State, StoredMessage


def message_view(message: StoredMessage) -> dict:
    """One message as the page draws it: text or caption with its entities, media, keyboard."""
    content = message.content
    is_text = message.kind == "text"
    return {
        "id": message.message_id,
        "from_bot": message.from_bot,
        "kind": message.kind,
        "date": message.date,
        "edited": message.edit_date is not None,
        "text": content.get("text" if is_text else "caption"),
        "entities": content.get("entities" if is_text else "caption_entities") or [],
        "media_group_id": message.media_group_id,
        "photo": _photo(content.get("photo")),
        "document": content.get("document"),
        "invoice": content.get("invoice"),  # title, description, currency, total_amount: drawn as a card
        "payment": content.get("successful_payment") or content.get("refunded_payment"),
        "keyboard": (message.reply_markup or {}).get("inline_keyboard", []),
    }


def _photo(sizes: list[dict] | None) -> dict | None:
    # The largest size is the one the control API reports and a Telegram app opens full screen.
    if not sizes:
        return None
    largest = sizes[-1]
    return {"file_id": largest["file_id"], "width": largest["width"], "height": largest["height"]}


def commands_for(state: State, user_id: int, language_code: str) -> list[dict]:
    """The bot's command menu as this user sees it (setMyCommands per scope and language)."""
    language = language_code.split("-")[0].lower()
    # Telegram takes the most specific scope that has a list, the user's language before none.
    scopes = ({"type": "chat", "chat_id": user_id}, {"type": "all_private_chats"}, {"type": "default"})
    for scope in scopes:
        for code in (language, ""):
            commands = state.commands.get(json.dumps(scope, sort_keys=True) + "|" + code)
            if commands:
                return commands
    return []


class ChatView:
    """What one page was last shown of a user's chat, so that only the differences are sent."""

    def __init__(self, state: State, user_id: int, language_code: str) -> None:
        self.state = state
        self.user_id = user_id
        self.language_code = language_code
        self.shown: dict[int, dict] = {}
        self.commands: list[dict] = []
        # Answers given before the page opened are old news: only later ones become toasts.
        self.answers_seen = len(state.answered)

    def snapshot(self) -> dict:
        """The whole chat now: bot, commands and messages; later changes are relative to it."""
        self.shown = self._current()
        self.commands = commands_for(self.state, self.user_id, self.language_code)
        bot = self.state.bot_user
        return {
            "bot": {"first_name": bot["first_name"], "username": bot["username"]},
            "commands": self.commands,
            "messages": list(self.shown.values()),
        }

    def changes(self) -> list[tuple[str, Any]]:
        """Events for what changed since the last look: upsert, delete, answer, commands."""
        current = self._current()
        events: list[tuple[str, Any]] = [("delete", {"id": gone}) for gone in self.shown.keys() - current.keys()]
        events += [("upsert", view) for key, view in current.items() if self.shown.get(key) != view]
        events += [
            ("answer", _answer(record.message_id, answer))
            for record in self._new_answers()
            if (answer := record.answer) and answer.get("text")
        ]
        commands = commands_for(self.state, self.user_id, self.language_code)
        if commands != self.commands:
            events.append(("commands", commands))
        self.shown, self.commands = current, commands
        return events

    def _current(self) -> dict[int, dict]:
        chat = self.state.chats.get(self.user_id)
        messages = chat.messages.values() if chat else ()
        return {m.message_id: message_view(m) for m in messages if not m.deleted}

    def _new_answers(self) -> list[CallbackRecord]:
        answered = self.state.answered
        # A reset empties the list; counting again from its new start keeps later answers.
        start = self.answers_seen if self.answers_seen <= len(answered) else 0
        self.answers_seen = len(answered)
        return [record for record in answered[start:] if record.user_id == self.user_id]


def _answer(message_id: int, answer: dict) -> dict:
    return {"message_id": message_id, "text": answer["text"], "show_alert": answer["show_alert"]}
