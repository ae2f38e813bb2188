"""Settings, read once per process from the environment and an optional `.env` file."""

import socket
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Any well-formed token works against the local stand-in; aiogram checks the shape only.
STAND_IN_TOKEN = "1234567:shopshot-local-stand-in"

# The choices a setting takes from a fixed set: a typo stops the process at start-up, named by pydantic.
# ("auto" dtypes: bfloat16 on GPUs that have it, else float16; float32 on cpu.) Devices stay free text:
# any torch device name ("cuda:1") is one.
Dtype = Literal["auto", "float32", "float16", "bfloat16"]
DiffusionMode = Literal["fast", "quality"]  # the keys of pipeline/diffusion/modes.py's MODES
# Read in any case, as logging takes it ("debug" and "DEBUG" alike).
LogLevel = Annotated[
    Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], BeforeValidator(lambda value: str(value).upper())
]
# A shipped backend, or an operator's own named by its class (pipeline/backends.py).
BACKEND_PATTERN = r"^(studio|diffusion|[A-Za-z_][\w.]*:[A-Za-z_]\w*)$"


class QueueSettings(BaseModel):
    name: str = "studio"  # served by CPU workers (the studio backend)
    gpu_name: str = "gpu"  # served by GPU workers (the diffusion backend)
    job_timeout_s: int = 300
    retries: int = 2
    failure_ttl_s: int = 7 * 24 * 3600
    result_ttl_s: int = 24 * 3600
    image_ttl_s: int = 24 * 3600
    events_stream: str = "shopshot:events"
    events_group: str = "bot"
    # Delivered entries past this many are trimmed from the stream; an entry the bot's group has not
    # read, or read and not acknowledged, stays whatever the count (queue/events.py).
    events_kept: int = Field(default=10_000, ge=1)
    # A job whose worker died is re-queued within lease_s + sweep_s + heartbeat_s (+1 s rounding): 14 s.
    lease_s: int = 10  # a running job's hold on the started registry, renewed while it runs
    heartbeat_s: float = 1.0  # how often a worker renews its job's lease and offers to sweep
    sweep_s: int = 2  # at most one sweep for abandoned jobs per queue in this time, fleet-wide
    # A batch's jobs enter the render queue this many per seller at a time (queue/feeder.py): another
    # seller's job waits behind at most this many of a batch's.
    feed_per_seller: int = Field(default=1, ge=1)


class S3Settings(BaseModel):
    """An S3-compatible bucket (AWS S3, Cloudflare R2, MinIO …); credentials unset: boto3's own chain (env, profile, role)."""

    bucket: str = "shopshot"
    endpoint_url: str | None = (
        None  # None: AWS itself; e.g. http://minio:9000 or https://<account>.r2.cloudflarestorage.com
    )
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: SecretStr | None = None
    prefix: str = "blobs/"  # every object's name starts so: one bucket may serve several deployments
    create_bucket: bool = True  # at start-up, create the bucket when it is missing (MinIO on first run)


class StorageSettings(BaseModel):
    """Where photos and results live (Redis keeps their keys, sizes and expiry only) and how much one seller may keep."""

    backend: Literal["local", "s3"] = "local"  # "local": files under `dir`; "s3": the bucket of `s3`
    dir: Path | None = None  # local: None = DATA_DIR/blobs; every bot and worker must see the same folder
    s3: S3Settings = S3Settings()
    # A result's images once Telegram has accepted them (it keeps them; the bot keeps their file_ids): 0 deletes at once.
    delivered_ttl_s: int = Field(default=0, ge=0)
    # Per seller: their photos stored at once (re-encoded copies); pages and results are bounded by the photos and the job limits.
    # Room for a whole batch (LIMITS__BATCH_PHOTOS, 30 by default) of 12-MP photos, about 5 MB each re-encoded, with some to spare.
    quota_mb: int = Field(default=250, ge=1)
    uploads_per_minute: int = Field(
        default=40, ge=1
    )  # per seller: photos and files taken in any minute (a batch of 30 fits)
    sweep_s: int = Field(default=60, ge=1)  # at most one sweep of expired blobs in this time, fleet-wide


class LimitSettings(BaseModel):
    max_file_mb: int = 20
    max_megapixels: int = 40
    min_side: int = 256
    jobs_in_flight: int = 2  # per seller: queued or running at once
    jobs_per_minute: int = 6  # per seller
    queue_cap: int = 500  # jobs waiting in a queue, all sellers together
    # The most photos one batch (an album, and what follows it in the same send) takes; a batch is
    # admitted while the seller's images in flight, and those started this minute, stay within it.
    batch_photos: int = Field(default=30, ge=2)
    # At intake, how long the bot waits for a neural-matte worker's cut-out of the photo before it
    # cuts out classically itself; 0: never asks.
    intake_analysis_s: float = Field(default=8.0, ge=0, le=60)


class BudgetSettings(BaseModel):
    """The bot's Bot API calls a second, all replicas together, under Telegram's ~30 per bot (see bot/budget.py)."""

    calls_per_s: int = 25  # at most this many in any one second; below 30, room for the network's jitter
    reserve: int = 5  # of each second's calls, kept for replies, albums and final texts: edits stop there


class AccessSettings(BaseModel):
    """Who may use the bot and who may see its operations."""

    admin_ids: list[int] = []  # Telegram user ids allowed /stats and the other admin commands
    allowed_ids: list[int] = []  # when set, a private deployment: only these users (and admins)


class WebhookSettings(BaseModel):
    """Webhook mode, for several bot replicas behind a load balancer; unset url = long polling."""

    url: str | None = None  # the public https URL Telegram posts updates to (through the load balancer)
    secret: SecretStr | None = (
        None  # required with url; Telegram sends it in X-Telegram-Bot-Api-Secret-Token; 1-256 of A-Z a-z 0-9 _ -
    )
    host: str = "0.0.0.0"  # where this replica listens for the load balancer
    port: int = 8443
    path: str = "/telegram"
    max_connections: int = 40  # how many requests Telegram may have open to the URL at once (1-100)

    @model_validator(mode="after")
    def _secret_with_url(self) -> "WebhookSettings":
        # Without it anyone who reaches the port can post updates as any user (a forged /forget deletes their data).
        if self.url and not (self.secret and self.secret.get_secret_value()):
            raise ValueError("WEBHOOK__SECRET must be set when WEBHOOK__URL is set (every replica the same one)")
        return self


class ObservabilitySettings(BaseModel):
    """Metrics, health and logs of each process."""

    metrics_port: int | None = None  # Prometheus metrics and /healthz; None = not served
    log_format: Literal["text", "json"] = "text"  # "text" or "json" (one JSON object per line)
    log_salt: SecretStr | None = (
        None  # mixed into the hashed user ids of JSON logs (unsalted, small ids can be guessed back)
    )


class DiffusionSettings(BaseModel):
    """The diffusion backend: where the weights are, how they run, which licences are allowed."""

    cache_dir: Path | None = None  # the Hugging Face cache; None = its default (HF_HOME / HF_HUB_CACHE)
    device: str = "auto"  # "auto": cuda, then mps, then cpu
    dtype: Dtype = "auto"  # "auto": bfloat16 on GPUs that have it, else float16; float32 on cpu
    mode: DiffusionMode = "fast"  # "fast" (few steps) or "quality"; a preset or a request may choose otherwise
    compile: bool = False  # torch.compile the UNet and ControlNet (slow first job, faster after); not with cpu_offload
    cpu_offload: bool = False  # keep only the running model on the GPU, for cards under ~16 GB
    warmup: bool = False  # one one-step generation per snapped generation size at setup; always on with compile
    detail: bool = True  # a low-strength tiled second pass where the canvas is larger than the generation
    face_pass: bool = True  # model swap and mannequin: the new face repainted on its own, enlarged, at low strength
    allow_noncommercial: bool = False  # allow registry entries whose licence forbids commercial use
    # Which model stack runs the tasks. "sdxl" (the default): SDXL inpainting + depth ControlNet, every
    # task, 9.8 GB of weights in bf16, ≈ 12 GB peak (a 16 GB card). "klein": FLUX.2 [klein] 4B, 4 steps,
    # every task (no depth ControlNet), 16.2 GB of weights, ≈ 18–20 GB peak (a 24 GB card, or
    # cpu_offload). Weights computed on the meta device (fixtures/diffusion/footprint.py), peaks
    # estimated; neither measured on a GPU. `shopshot models pull` fetches only the chosen stack's models.
    stack: Literal["sdxl", "klein"] = "sdxl"

    @model_validator(mode="after")
    def _compile_without_offload(self) -> "DiffusionSettings":
        # Offload hooks move modules between devices on every call, under a graph compiled for one place.
        if self.compile and self.cpu_offload:
            raise ValueError("DIFFUSION__COMPILE and DIFFUSION__CPU_OFFLOAD cannot both be set: choose one")
        return self


class MatteSettings(BaseModel):
    """The neural product matte (SAM 2.1 + ViTMatte), on CPU and GPU workers; its weights live in DIFFUSION__CACHE_DIR."""

    neural: Literal["auto", "off"] = "auto"  # "auto": used when its weights are pulled, else the classical cut-out
    device: str = "auto"  # "auto": cuda, then mps, then cpu
    dtype: Dtype = "auto"  # "auto": bfloat16 on GPUs that have it, float32 on cpu
    edge_side: int = Field(default=512, ge=64, le=2048)  # ViTMatte's working long side on the product's crop
    # SAM 2.1's input side; None: the checkpoint's own (1024, what it was trained at); 512 costs a quarter
    segment_side: int | None = Field(default=None, ge=256, le=1024, multiple_of=32)


class PolicySettings(BaseModel):
    """What sellers may ask for and what the studio may deliver."""

    check_details: bool = True  # refuse detail lines asking for nudity or sex (the word lists in policy_words.toml)
    check_outputs: bool = True  # run the safety classifier on every diffusion image; a flagged one fails its job
    unsafe_threshold: float = Field(
        default=0.5, gt=0, le=1
    )  # the classifier's "nsfw" probability that withholds an image


class PriceSettings(BaseModel):
    """Credits an image costs, by the mode it runs in; the studio's CPU backdrops cost least."""

    studio: int = Field(default=1, ge=0)
    fast: int = Field(default=2, ge=0)
    quality: int = Field(default=4, ge=0)
    person_extra: int = Field(default=1, ge=0)  # added for a model or mannequin image: a person is generated too


class CreditPack(BaseModel):
    """A pack of credits sold for Telegram Stars (/buy)."""

    key: str = Field(pattern=r"^[a-z0-9_-]{1,32}$")  # in the invoice's payload: stable while invoices are open
    credits: int = Field(gt=0)
    stars: int = Field(gt=0, le=10000)  # whole Stars: XTR has no fractions


class BillingSettings(BaseModel):
    """Credits, their prices, packs sold for Stars and a free monthly allowance (bot/billing, shopshot/billing)."""

    enabled: bool = False  # off: every job is free and /buy is not offered (the playground turns it on)
    free_images: int = Field(default=3, ge=0)  # free images per seller per calendar month (UTC); 0: none
    prices: PriceSettings = PriceSettings()
    packs: list[CreditPack] = [
        CreditPack(key="s", credits=10, stars=25),
        CreditPack(key="m", credits=30, stars=65),
        CreditPack(key="l", credits=100, stars=200),
    ]
    # Who answers payment questions (/paysupport): a @username or a URL; None: the bot's admins are named.
    support: str | None = None

    @model_validator(mode="after")
    def _packs_unique(self) -> "BillingSettings":
        keys = [pack.key for pack in self.packs]
        if len(set(keys)) != len(keys):
            raise ValueError("BILLING__PACKS: every pack needs a key of its own")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_nested_delimiter="__", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = Path("data")
    log_level: LogLevel = "INFO"
    default_language: str = "en"
    backend: str = Field(
        default="studio", pattern=BACKEND_PATTERN
    )  # "studio", "diffusion" or "package.module:ClassName"
    playground_port: int = 8080
    # Names this bot replica in the result stream's consumer group: stable across its restarts, so a
    # restarted replica resumes its own pending deliveries at once; unique among replicas.
    instance_name: str = Field(default_factory=socket.gethostname)
    queue: QueueSettings = QueueSettings()
    limits: LimitSettings = LimitSettings()
    budget: BudgetSettings = BudgetSettings()
    access: AccessSettings = AccessSettings()
    webhook: WebhookSettings = WebhookSettings()
    observability: ObservabilitySettings = ObservabilitySettings()
    diffusion: DiffusionSettings = DiffusionSettings()
    matte: MatteSettings = MatteSettings()
    policy: PolicySettings = PolicySettings()
    storage: StorageSettings = StorageSettings()
    billing: BillingSettings = BillingSettings()

    @property
    def uses_stand_in(self) -> bool:
        """True when no real Telegram token is configured."""
        return self.telegram_bot_token is None
