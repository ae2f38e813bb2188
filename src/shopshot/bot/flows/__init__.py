"""One router per user flow, included by the dispatcher in this order."""

from shopshot.bot.flows import choose_backdrop, choose_options, common, confirm, fallback, intake, results

ROUTERS = (common.router, intake.router, choose_backdrop.router, choose_options.router, confirm.router, results.router, fallback.router)
