"""Credits per seller: prices and packs (plain rules), and the ledger in Redis that moves them.

Nothing here knows aiogram: the bot's flows call `Ledger` and show what it answers.
"""
