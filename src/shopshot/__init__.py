"""shopshot: an AI product-photo studio inside Telegram."""
