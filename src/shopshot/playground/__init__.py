"""A local Telegram Bot API stand-in (standin.py) and the client that acts as its users (client.py)."""
