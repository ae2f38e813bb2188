"""One router per user flow, built fresh for each dispatcher and included in this order."""

from aiogram import Router

from shopshot.bot.flows import (
    admin,
    batch,
    cancel,
    change,
    choose_backdrop,
    choose_model,
    choose_options,
    choose_product,
    choose_task,
    common,
    confirm,
    fallback,
    forget,
    intake,
    payments,
    results,
    saved_looks,
)

FLOWS = (
    common,
    cancel,
    forget,
    admin,
    payments,
    batch,
    intake,
    choose_product,
    choose_task,
    choose_model,
    choose_backdrop,
    choose_options,
    confirm,
    change,
    saved_looks,
    results,
    fallback,
)


def build_routers() -> list[Router]:
    """Every flow's router, the fallback last."""
    return [flow.build_router() for flow in FLOWS]
