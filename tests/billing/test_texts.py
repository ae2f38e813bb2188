"""Every billing text, keyboard and menu entry is marked for translation (the pseudo-locale audit of
tests/bot/test_translation_audit.py, applied to the credits' texts)."""

import time

from shopshot.billing.ledger import Hold, Move, Release, Wallet
from shopshot.bot import app, credits, keyboards
from shopshot.bot.flows.admin import billing_text
from shopshot.config import BillingSettings
from tests.bot.test_translation_audit import PSEUDO, RecordingBot, words_left

KINDS = ("purchase", "grant", "hold", "capture", "release", "refund", "refund_undone")


def billing_texts() -> list[str]:
    wallet = Wallet(balance=12, free_left=1)
    moves = [Move(kind, -3, 1, "ref", time.time(), spent=3) for kind in KINDS]
    pack = BillingSettings().packs[0]
    shown = [
        credits.held(Hold("job", 2, 1, 5), 5),
        credits.given_back(Release(2, 1, 7, True)),
        credits.buy_prompt(wallet),
    ]
    # The movements' dates are Babel's (the pseudo-locale has none of its own): their lines are looked at alone.
    shown += [
        credits.invoice_title(pack),
        credits.invoice_description(),
        credits.thanks(10, 22),
        credits.balance(wallet, []),
    ]
    shown += [credits.move_line(move) for move in moves]
    shown += [credits.terms(), credits.pay_support("@support"), credits.free_studio(), billing_text({"stars_paid": 5})]
    return shown + [
        button.text for row in keyboards.credit_packs(BillingSettings().packs).inline_keyboard for button in row
    ]


def test_every_billing_text_is_marked(pseudo):
    with pseudo.context(), pseudo.use_locale(PSEUDO):
        shown = billing_texts()
    assert [(text, words_left(text)) for text in shown if words_left(text)] == []


def test_every_movement_has_words_of_its_own(pseudo):
    with pseudo.context(), pseudo.use_locale(PSEUDO):
        lines = [credits.move_line(Move(kind, -3, 1, "ref", time.time(), spent=3)) for kind in KINDS]
    assert len(set(lines)) == len(KINDS) and all("⟦" in line for line in lines)


async def test_the_payment_commands_join_the_menu_when_billing_is_on(pseudo):
    recorder = RecordingBot()
    await app._set_commands(recorder, pseudo, billing=True)
    assert len(recorder.descriptions) == 9 and [text for text in recorder.descriptions if words_left(text)] == []
