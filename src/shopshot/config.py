"""Settings, read once per process from the environment and an optional `.env` file."""

from pathlib import Path

from pydantic import BaseModel, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Any well-formed token works against the local stand-in; aiogram checks the shape only.
STAND_IN_TOKEN = "1234567:shopshot-local-stand-in"


class QueueSettings(BaseModel):
    name: str = "studio"        # served by CPU workers (the studio backend)
    gpu_name: str = "gpu"       # served by GPU workers (the diffusion backend)
    job_timeout_s: int = 300
    retries: int = 2
    failure_ttl_s: int = 7 * 24 * 3600
    result_ttl_s: int = 24 * 3600
    image_ttl_s: int = 24 * 3600
    events_stream: str = "shopshot:events"
    events_group: str = "bot"


class LimitSettings(BaseModel):
    max_file_mb: int = 20
    max_megapixels: int = 40
    min_side: int = 256


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_nested_delimiter="__", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = Path("data")
    log_level: str = "INFO"
    default_language: str = "en"
    backend: str = "studio"
    queue: QueueSettings = QueueSettings()
    limits: LimitSettings = LimitSettings()

    @property
    def uses_stand_in(self) -> bool:
        """True when no real Telegram token is configured."""
        return self.telegram_bot_token is None
