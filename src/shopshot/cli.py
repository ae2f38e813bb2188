"""The `shopshot` command: bot, worker, run and render."""

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from pydantic import ValidationError

from shopshot import logs
from shopshot.config import Settings
from shopshot.errors import ShopshotError


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one subcommand; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:
        _print_settings_errors(error)
        return 2
    logs.setup(settings)
    # SIGTERM unwinds like Ctrl+C, so embedded Redis and child processes are stopped on the way out.
    signal.signal(signal.SIGTERM, _raise_exit)
    try:
        return args.handler(args, settings) or 0
    except ShopshotError as error:  # e.g. ModelsMissing at a worker's start: one line, not a traceback
        print(logs.redact(f"shopshot: {error}", logs.secrets_of(settings)), file=sys.stderr)
        return 1


def _print_settings_errors(error: ValidationError) -> None:
    # One line per bad setting, named as in the environment; never the value, which may be a secret.
    for problem in error.errors(include_input=False, include_url=False):
        name = "__".join(str(part) for part in problem["loc"]).upper()
        print(f"shopshot: {name}: {problem['msg'].removeprefix('Value error, ')}", file=sys.stderr)


def _raise_exit(signum, frame) -> None:
    raise SystemExit(128 + signum)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shopshot", description="AI product-photo studio inside Telegram.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    bot = commands.add_parser("bot", help="run the Telegram bot (long polling, or a webhook when WEBHOOK__URL is set)")
    bot.set_defaults(handler=_bot)
    worker = commands.add_parser("worker", help="run a render worker")
    worker.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    worker.set_defaults(handler=_worker)
    run = commands.add_parser("run", help="try it: a chat page in the browser, or the real bot with a token")
    run.add_argument("--scripted", action="store_true", help="play the scripted conversation into --out and exit")
    run.add_argument("-o", "--out", type=Path, default=Path("out"), help="where --scripted writes the conversation")
    run.set_defaults(handler=_run)
    _add_render(commands)
    models = commands.add_parser("models", help="model weights for the workers (diffusion, neural matte)")
    models_commands = models.add_subparsers(required=True, metavar="ACTION")
    pull = models_commands.add_parser("pull", help="download the registry's models into the Hugging Face cache")
    pull.add_argument("--cpu", action="store_true", help="only what a CPU worker loads (the neural matte)")
    pull.set_defaults(handler=_models_pull)
    return parser


def _add_render(commands) -> None:
    render = commands.add_parser("render", help="render local photos (files or folders) without Telegram or Redis")
    render.add_argument("photos", nargs="+", type=Path, metavar="PHOTO", help="an image file, or a folder of them")
    render.add_argument("--preset", default="white", help="backdrop preset key")
    render.add_argument("--ratio", default="1:1", help="aspect ratio: 1:1, 3:4, 4:5 or 9:16")
    render.add_argument("--variants", type=int, default=1, help="1, 2 or 4")
    render.add_argument("--seed", type=int, default=0)
    render.add_argument(
        "--pack",
        action="append",
        metavar="MARKETPLACE",
        help="render a marketplace pack instead of --preset/--ratio/--variants (repeatable; see `shopshot packs`): one folder per pack",
    )
    render.add_argument("-o", "--out", type=Path, default=Path("out"))
    render.set_defaults(handler=_render)
    packs = commands.add_parser("packs", help="list the marketplace packs, their images and the sources of their rules")
    packs.set_defaults(handler=_packs)


def _bot(args, settings: Settings) -> int:
    from shopshot.launcher import serve_bot

    return serve_bot(settings)


def _worker(args, settings: Settings) -> int:
    from shopshot.embedded import redis_url
    from shopshot.queue.worker import run_worker

    with redis_url(settings) as url:
        run_worker(settings, url, burst=args.burst)
    return 0


def _run(args, settings: Settings) -> int:
    from shopshot.launcher import play_locally, serve_bot, serve_playground

    if args.scripted:
        return asyncio.run(play_locally(settings, args.out))
    if settings.uses_stand_in:
        return serve_playground(settings)
    return serve_bot(settings, with_worker=True)


def _models_pull(args, settings: Settings) -> int:
    from shopshot.pipeline.diffusion.pull import pull_models

    pull_models(settings, cpu=args.cpu)
    return 0


def _render(args, settings: Settings) -> int:
    from shopshot.render import render_files, render_packs

    if args.pack:
        return render_packs(args.photos, args.pack, args.seed, args.out, settings)
    return render_files(args.photos, args.preset, args.ratio, args.variants, args.seed, args.out, settings)


def _packs(args, settings: Settings) -> int:
    from shopshot.pipeline.packs import describe_packs

    print(describe_packs())
    return 0


if __name__ == "__main__":
    sys.exit(main())
