"""Settings with a fixed set of choices refuse a typo at start-up, named as in the environment."""

import pytest

from shopshot import cli
from shopshot.config import Settings


@pytest.fixture
def start_up(tmp_path, monkeypatch, capsys):
    """Run `shopshot bot` with these settings in a folder without a .env; return its exit status and stderr."""
    monkeypatch.chdir(tmp_path)

    def run(env: dict[str, str]) -> tuple[int, list[str]]:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        status = cli.main(["bot"])
        return status, capsys.readouterr().err.splitlines()

    return run


def test_a_typo_in_a_choice_stops_the_process_before_it_starts(start_up):
    status, errors = start_up({"DIFFUSION__MODE": "qualty"})
    assert status == 2
    assert errors == ["shopshot: DIFFUSION__MODE: Input should be 'fast' or 'quality'"]


def test_each_fixed_choice_names_its_valid_values(start_up):
    status, errors = start_up({"DIFFUSION__DTYPE": "fp16", "MATTE__DTYPE": "half", "LOG_LEVEL": "verbose"})
    dtypes = "Input should be 'auto', 'float32', 'float16' or 'bfloat16'"
    assert status == 2
    assert errors == [
        "shopshot: LOG_LEVEL: Input should be 'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'",
        f"shopshot: DIFFUSION__DTYPE: {dtypes}",
        f"shopshot: MATTE__DTYPE: {dtypes}",
    ]


def test_a_backend_is_a_shipped_one_or_a_class_path(start_up):
    status, errors = start_up({"BACKEND": "difusion model"})
    assert status == 2 and errors[0].startswith("shopshot: BACKEND: String should match pattern")


def test_the_log_level_is_read_in_any_case_and_backends_by_class_path_are_kept(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    settings = Settings(log_level="debug", backend="tests.queue.backends:Slow")
    assert (settings.log_level, settings.backend) == ("DEBUG", "tests.queue.backends:Slow")
