"""reply_markup as Telegram checks it; only inline keyboards end up on the sent message."""

from typing import Any

from shopshot.playground._state import bad_request

MAX_CALLBACK_DATA = 64
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def inline_markup(markup: Any) -> dict | None:
    """The InlineKeyboardMarkup a message will carry, or None (no markup, or a reply keyboard)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("object expected as reply markup")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return None
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('Field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    checked = [[_button(button) for button in row] for row in rows]
    checked = [row for row in checked if row]
    return {"inline_keyboard": checked} if checked else None


def _button(button: Any) -> dict:
    if not isinstance(button, dict):
        raise _button_error("InlineKeyboardButton must be an Object")
    if "text" not in button:
        raise _button_error('Can\'t find field "text"')
    if not isinstance(button["text"], str):
        raise _button_error('Field "text" must be of type String')
    kept = {key: value for key, value in button.items() if value is not None and value != ""}
    if not any(action in kept for action in _BUTTON_ACTIONS):
        raise _button_error("Text buttons are unallowed in the inline keyboard")
    data = kept.get("callback_data")
    if data is not None and len(str(data).encode()) > MAX_CALLBACK_DATA:
        raise bad_request("BUTTON_DATA_INVALID")
    return kept


def buttons(markup: dict | None) -> list[dict]:
    """Every button of an inline keyboard, row by row."""
    if markup is None:
        return []
    return [button for row in markup["inline_keyboard"] for button in row]


def _button_error(detail: str):
    return bad_request(f"can't parse inline keyboard button: {detail}")
