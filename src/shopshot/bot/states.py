"""Conversation states, stored in Redis by aiogram's RedisStorage."""

from aiogram.fsm.state import State, StatesGroup


class Studio(StatesGroup):
    choosing_backdrop = State()
    choosing_options = State()
    confirming = State()
