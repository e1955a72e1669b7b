"""Settings: the one place configuration is read, in layers (defaults, .env, environment, overrides).

Every other module receives a ``Settings`` object; nothing else reads ``os.environ``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import quote_plus

from finlib.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_HOME = PROJECT_ROOT / ".finlib"
DEFAULT_LLM_MODEL = "gemini/gemini-2.5-flash-lite"
SALT_FILE_NAME = "alias_salt"
SALT_BYTES = 32
# The parse child's memory cap: the largest bench ledger (1M rows) peaks near 720 MB; 2 GB leaves room for that
# on a 2-core / 24 GB machine where several parses and the app run side by side.
DEFAULT_PARSE_MEMORY_MB = 2048


@dataclass(frozen=True)
class Settings:
    """Validated configuration of one finlib process."""

    home: Path = DEFAULT_HOME
    database_url: str = ""
    aws_s3_bucket: str | None = None
    aws_region: str = "us-east-1"
    aws_access_key_id: str | None = field(default=None, repr=False)
    aws_secret_access_key: str | None = field(default=None, repr=False)
    aws_endpoint_url: str | None = None
    s3_allowed_buckets: tuple[str, ...] = ()
    s3_upload_prefix: str = "uploads/"
    s3_cache_prefix: str = "cache/"
    s3_connect_timeout_s: float = 3.0
    s3_read_timeout_s: float = 10.0
    s3_max_attempts: int = 2
    llm_api_key: str | None = field(default=None, repr=False)
    llm_model: str = DEFAULT_LLM_MODEL
    llm_api_base: str | None = None
    llm_timeout_s: float = 30.0
    llm_max_retries: int = 2
    llm_deadline_s: float = 30.0
    alias_salt: bytes = field(default=b"", repr=False)
    alias_length: int = 8
    moving_avg_window: int = 3
    trend_threshold: float = 0.05
    default_terms_days: int = 30
    max_file_mb: int = 400
    parse_timeout_s: float = 180.0
    parse_memory_mb: int = DEFAULT_PARSE_MEMORY_MB
    admins: tuple[str, ...] = ()
    alert_webhook_url: str | None = None
    alert_webhook_secret: str | None = field(default=None, repr=False)
    alert_webhook_real_names: bool = False
    alert_late_days: int = 14
    alert_timeout_s: float = 10.0
    alert_retries: int = 3

    def __post_init__(self) -> None:
        _require(self.alias_length >= 2, "ALIAS_LENGTH", "must be a whole number of at least 2")
        _require(self.alias_length <= 40, "ALIAS_LENGTH", "must be at most 40")
        _require(self.moving_avg_window >= 1, "MOVING_AVG_WINDOW", "must be a whole number of at least 1")
        _require(0 <= self.trend_threshold < 1, "TREND_THRESHOLD", "must be a fraction between 0 and 1")
        _require(self.llm_timeout_s > 0, "LITE_LLM_TIMEOUT", "must be a positive number of seconds")
        _require(self.llm_max_retries >= 0, "LITE_LLM_MAX_RETRIES", "must be 0 or more")
        _require(self.s3_connect_timeout_s > 0, "S3_CONNECT_TIMEOUT_S", "must be a positive number of seconds")
        _require(self.s3_read_timeout_s > 0, "S3_READ_TIMEOUT_S", "must be a positive number of seconds")
        _require(self.s3_max_attempts >= 1, "S3_MAX_ATTEMPTS", "must be 1 or more")
        _require(
            bool(self.s3_cache_prefix)
            and not (self.s3_upload_prefix and self.s3_cache_prefix.startswith(self.s3_upload_prefix))
            and not self.s3_upload_prefix.startswith(self.s3_cache_prefix),
            "S3_CACHE_PREFIX",
            "must be a folder of its own, apart from S3_UPLOAD_PREFIX",
        )
        _require(self.llm_deadline_s > 0, "LITE_LLM_DEADLINE", "must be a positive number of seconds")
        _require(self.max_file_mb > 0, "MAX_FILE_MB", "must be a positive number of megabytes")
        _require(self.parse_timeout_s > 0, "PARSE_TIMEOUT_S", "must be a positive number of seconds")
        _require(self.parse_memory_mb >= 256, "PARSE_MEMORY_MB", "must be at least 256")
        _require(self.alert_late_days >= 0, "ALERT_LATE_DAYS", "must be 0 or more days")
        _require(self.alert_timeout_s > 0, "ALERT_WEBHOOK_TIMEOUT", "must be a positive number of seconds")
        _require(self.alert_retries >= 0, "ALERT_WEBHOOK_RETRIES", "must be 0 or more")
        if self.alert_webhook_url:
            _require(
                self.alert_webhook_url.startswith(("http://", "https://")),
                "ALERT_WEBHOOK_URL",
                "must be an http:// or https:// URL",
            )
            _require(
                bool(self.alert_webhook_secret),
                "ALERT_WEBHOOK_SECRET",
                "must be set when ALERT_WEBHOOK_URL is set (it signs every alert)",
            )

    @property
    def database_backend(self) -> str:
        """'postgresql' or 'sqlite', for the status block."""
        return "postgresql" if self.database_url.startswith("postgresql") else "sqlite"

    @property
    def storage_backend(self) -> str:
        """'s3' when a bucket is configured, else 'local' (a folder under the data home)."""
        return "s3" if self.aws_s3_bucket else "local"

    @property
    def shared_cache(self) -> bool:
        """Parsed ledgers are also kept in the bucket: several processes share PostgreSQL and AWS_S3_BUCKET."""
        return bool(self.aws_s3_bucket) and self.database_backend == "postgresql"

    @property
    def allowed_buckets(self) -> frozenset[str]:
        """Buckets a source URL may name: AWS_S3_BUCKET plus S3_ALLOWED_BUCKETS."""
        named = set(self.s3_allowed_buckets)
        if self.aws_s3_bucket:
            named.add(self.aws_s3_bucket)
        return frozenset(named)

    @property
    def llm_enabled(self) -> bool:
        """True when a model can be called (a key, or a self-hosted API base)."""
        return bool(self.llm_api_key or self.llm_api_base)

    @property
    def store_dir(self) -> Path:
        """Local object store used when no S3 bucket is configured."""
        return self.home / "store"

    @property
    def cache_dir(self) -> Path:
        """Downloads and parsed ledgers, keyed by ETag."""
        return self.home / "cache"

    @property
    def s3_deadline_s(self) -> float:
        """The longest one S3 request can take before it fails: every attempt connecting and waiting in full."""
        return self.s3_max_attempts * (self.s3_connect_timeout_s + self.s3_read_timeout_s)

    @property
    def parse(self) -> ParseSettings:
        """The settings that change what a parse returns (see ``ParseSettings``)."""
        return ParseSettings.of(self)

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some fields replaced (validated again)."""
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ParseSettings:
    """The settings that change what a parse returns: the one list the parse child and the parse-cache key share.

    Parsing reads its settings only from here, so a new setting that changes a parse has to be added here, and
    then reaches the child (``to_json``) and the cache key (``cache_material``) without further edits.
    """

    default_terms_days: int = 30

    @classmethod
    def of(cls, settings: Settings | ParseSettings) -> ParseSettings:
        """The parse settings of a full ``Settings`` (same-named fields), or ``settings`` itself."""
        if isinstance(settings, ParseSettings):
            return settings
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})

    def to_json(self) -> dict[str, object]:
        """JSON-safe fields, for the parse child's request; ``ParseSettings(**data)`` reads them back."""
        return asdict(self)

    def cache_material(self) -> list[object]:
        """Every field, in a stable order, for a cache key."""
        return [[name, value] for name, value in sorted(asdict(self).items())]


def _require(condition: bool, variable: str, message: str) -> None:
    if not condition:
        raise ConfigError(f"{variable} {message}.")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}.") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}.") from None


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().casefold()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name} must be true or false, got {raw!r}.")


def _text(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _folder_prefix(raw: str) -> str:
    prefix = raw.strip().lstrip("/")
    return prefix + "/" if prefix and not prefix.endswith("/") else prefix


def resolve_database_url(env: Mapping[str, str], home: Path) -> str:
    """DATABASE_URL, else the original DB_* variables (PostgreSQL), else SQLite in the data home."""
    url = _text(env, "DATABASE_URL")
    if url:
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://") :]
        # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3, which we do not ship.
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg2://" + url[len("postgresql://") :]
        return url
    host = _text(env, "DB_HOST")
    if host:
        name = _text(env, "DB_NAME")
        if not name:
            raise ConfigError("DB_NAME must be set when DB_HOST is set.")
        user = _text(env, "DB_USER") or "postgres"
        password = env.get("DB_PASSWORD", "")
        port = _int(env, "DB_PORT", 5432)
        auth = quote_plus(user) + (":" + quote_plus(password) if password else "")
        return f"postgresql+psycopg2://{auth}@{host}:{port}/{name}"
    return f"sqlite:///{home / 'finlib.db'}"


def prepare_home(home: Path) -> Path:
    """Create the data home private to this user (0700): it holds real names, uploads and the alias salt."""
    try:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        if home.stat().st_uid == os.getuid() and home.stat().st_mode & 0o077:
            home.chmod(0o700)
    except OSError as exc:
        raise ConfigError(
            f"FINLIB_HOME {home} cannot be created ({exc.strerror}); set FINLIB_HOME to a folder you can write."
        ) from None
    if not os.access(home, os.W_OK | os.X_OK):
        raise ConfigError(f"FINLIB_HOME {home} is not writable; set FINLIB_HOME to a folder you can write.")
    return home


def resolve_alias_salt(configured: str | None, home: Path) -> bytes:
    """ALIAS_SALT when set; else a random salt generated once and kept in the data home (mode 0600)."""
    if configured:
        return configured.encode("utf-8")
    path = home / SALT_FILE_NAME
    if path.exists():
        salt = path.read_text(encoding="ascii").strip()
        if not salt:
            raise ConfigError(f"The alias salt file {path} is empty; restore it from a backup or set ALIAS_SALT.")
        return salt.encode("ascii")
    home.mkdir(parents=True, exist_ok=True)
    salt = secrets.token_hex(SALT_BYTES)
    # O_EXCL: two processes starting together must not write two different salts.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return resolve_alias_salt(None, home)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(salt + "\n")
    return salt.encode("ascii")


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    dotenv_path: Path | None = PROJECT_ROOT / ".env",
    **overrides: object,
) -> Settings:
    """Build Settings from defaults, then ``.env``, then the environment, then ``overrides``.

    Tests pass ``environ`` as a plain dict and ``dotenv_path=None`` to stay independent of the machine.
    """
    env: dict[str, str] = {}
    if dotenv_path is not None and dotenv_path.exists():
        from dotenv import dotenv_values

        env.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    env.update(os.environ if environ is None else environ)

    home = prepare_home(Path(_text(env, "FINLIB_HOME") or DEFAULT_HOME).expanduser().resolve())
    allowed = tuple(b.strip() for b in env.get("S3_ALLOWED_BUCKETS", "").split(",") if b.strip())
    prefix = _folder_prefix(env.get("S3_UPLOAD_PREFIX", "uploads/"))
    values: dict[str, object] = dict(
        home=home,
        database_url=resolve_database_url(env, home),
        aws_s3_bucket=_text(env, "AWS_S3_BUCKET"),
        aws_region=_text(env, "AWS_REGION") or _text(env, "AWS_DEFAULT_REGION") or "us-east-1",
        aws_access_key_id=_text(env, "AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=_text(env, "AWS_SECRET_ACCESS_KEY"),
        aws_endpoint_url=_text(env, "AWS_ENDPOINT_URL"),
        s3_allowed_buckets=allowed,
        admins=tuple(e.strip().lower() for e in env.get("FINLIB_ADMINS", "").split(",") if e.strip()),
        s3_upload_prefix=prefix,
        s3_cache_prefix=_folder_prefix(env.get("S3_CACHE_PREFIX", "cache/")),
        s3_connect_timeout_s=_float(env, "S3_CONNECT_TIMEOUT_S", 3.0),
        s3_read_timeout_s=_float(env, "S3_READ_TIMEOUT_S", 10.0),
        s3_max_attempts=_int(env, "S3_MAX_ATTEMPTS", 2),
        llm_api_key=_text(env, "LITE_LLM_API_KEY"),
        llm_model=_text(env, "LITE_LLM_MODEL") or DEFAULT_LLM_MODEL,
        llm_api_base=_text(env, "LITE_LLM_API_BASE"),
        llm_timeout_s=_float(env, "LITE_LLM_TIMEOUT", 30.0),
        llm_max_retries=_int(env, "LITE_LLM_MAX_RETRIES", 2),
        llm_deadline_s=_float(env, "LITE_LLM_DEADLINE", 30.0),
        alias_length=_int(env, "ALIAS_LENGTH", 8),
        moving_avg_window=_int(env, "MOVING_AVG_WINDOW", 3),
        trend_threshold=_float(env, "TREND_THRESHOLD", 0.05),
        default_terms_days=_int(env, "DEFAULT_TERMS_DAYS", 30),
        max_file_mb=_int(env, "MAX_FILE_MB", 400),
        parse_timeout_s=_float(env, "PARSE_TIMEOUT_S", 180.0),
        parse_memory_mb=_int(env, "PARSE_MEMORY_MB", DEFAULT_PARSE_MEMORY_MB),
        alert_webhook_url=_text(env, "ALERT_WEBHOOK_URL"),
        alert_webhook_secret=_text(env, "ALERT_WEBHOOK_SECRET"),
        alert_webhook_real_names=_flag(env, "ALERT_WEBHOOK_REAL_NAMES"),
        alert_late_days=_int(env, "ALERT_LATE_DAYS", 14),
        alert_timeout_s=_float(env, "ALERT_WEBHOOK_TIMEOUT", 10.0),
        alert_retries=_int(env, "ALERT_WEBHOOK_RETRIES", 3),
    )
    values.update(overrides)
    if "alias_salt" not in overrides:
        values["alias_salt"] = resolve_alias_salt(_text(env, "ALIAS_SALT"), Path(str(values["home"])))
    return Settings(**values)  # type: ignore[arg-type]
