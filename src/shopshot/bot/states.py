"""Conversation states, stored in Redis by aiogram's RedisStorage."""

from aiogram.fsm.state import State, StatesGroup


class Studio(StatesGroup):
    choosing_product = State()
    choosing_task = State()
    choosing_model = State()
    choosing_backdrop = State()
    choosing_options = State()
    writing_detail = State()
    confirming = State()
