"""Server settings: one dataclass, filled from a TOML file, the environment and the command line.

Precedence (lowest first): defaults < ``--config`` TOML file < ``FACETRUST_*`` environment < flags.
The token is never a default: the server refuses to start without one unless it is told
``insecure_local`` *and* listens on loopback only.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

MB = 1024 * 1024


class ConfigError(ValueError):
    """The server settings are unusable (the message says how to fix them)."""


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    insecure_local: bool = False  # no token; only allowed on a loopback address
    data_dir: Path = Path("facetrust-data")  # database (SQLite), uploaded media, reports
    db_url: str | None = None  # default: sqlite:///<data_dir>/facetrust.db ; or postgresql+psycopg://...
    workers: int = 2  # scans running at once
    queue_size: int = 32  # scans waiting; beyond it POST /v1/scans answers 429
    max_image_bytes: int = 10 * MB
    max_video_bytes: int = 250 * MB
    allowed_roots: tuple[str, ...] = ()  # server-side paths may be scanned only under these folders
    retention_days: float = 7.0  # uploaded media is deleted after this long (results are kept)
    sync_timeout_s: float = 60.0  # an image slower than this is answered 202 + job id
    lease_s: float = 30.0  # a worker that stops renewing its lease for this long lost the job
    max_attempts: int = 3  # interrupted jobs are retried this many times in all, then failed
    default_options: dict[str, Any] = field(default_factory=dict)  # ScanOptions defaults for every scan
    # Request limits: what a client may send and how slowly (docs/security.md "Server" lists each refusal).
    max_json_bytes: int = 64 * 1024  # a JSON body is a path and options: larger is 413
    max_json_depth: int = 16  # nesting of a JSON body (arrays + objects); deeper is 400, before parsing
    max_header_count: int = 100  # request headers; more is 431
    max_header_bytes: int = 32 * 1024  # request line + headers; larger is 431
    header_timeout_s: float = 10.0  # the request line and headers must arrive within this, else 408 + closed
    body_idle_timeout_s: float = 30.0  # a request body that sends nothing for this long: 408 + closed
    body_timeout_s: float = 600.0  # the whole body must arrive within this (250 MB at >= 0.42 MB/s): 408
    keep_alive_s: float = 5.0  # an idle kept-alive connection is closed after this
    max_connections: int = 512  # open connections (or requests in flight) beyond this are answered 503

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)
        self.allowed_roots = tuple(str(r) for r in self.allowed_roots)

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{(self.data_dir / 'facetrust.db').resolve()}"

    @property
    def retention_s(self) -> float:
        return self.retention_days * 86400.0

    def validate(self) -> ServerConfig:
        if self.token is not None and len(self.token) < 8:
            raise ConfigError("the API token must have at least 8 characters")
        if self.token is None:
            if not self.insecure_local:
                raise ConfigError(
                    "no API token: set FACETRUST_TOKEN (or --token-file / token in the config file); "
                    "for a local trial without a token use --insecure-local (loopback only)"
                )
            if not _is_loopback(self.host):
                raise ConfigError(f"--insecure-local only works on a loopback address, not {self.host!r}")
        for name in _INT_SETTINGS:
            if name != "port" and int(getattr(self, name)) < 1:
                raise ConfigError(f"{name} must be at least 1")
        for name in _FLOAT_SETTINGS:
            if not float(getattr(self, name)) > 0:  # also refuses NaN
                raise ConfigError(f"{name} must be positive")
        for root in self.allowed_roots:
            if not Path(root).is_dir():
                raise ConfigError(f"allowed root {root!r} is not a folder")
        return self


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_FIELDS = {f.name: f for f in dataclasses.fields(ServerConfig)}
_INT_SETTINGS = tuple(n for n, f in _FIELDS.items() if f.type == "int")
_FLOAT_SETTINGS = tuple(n for n, f in _FIELDS.items() if f.type == "float")
ENV_VARS = {  # setting -> FACETRUST_<NAME> environment variable
    "token": "FACETRUST_TOKEN",
    "db_url": "FACETRUST_DB_URL",
    "data_dir": "FACETRUST_DATA_DIR",
    "host": "FACETRUST_HOST",
    "port": "FACETRUST_PORT",
    "workers": "FACETRUST_WORKERS",
    "queue_size": "FACETRUST_QUEUE_SIZE",
}


TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def parse_bool(value: Any) -> bool | None:
    """One reading of a yes/no setting (config file, env var, query string); None if it is neither."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    return True if text in TRUE_WORDS else False if text in FALSE_WORDS else None


def _coerce(name: str, value: Any) -> Any:
    if name in _INT_SETTINGS:
        return int(value)
    if name in _FLOAT_SETTINGS:
        return float(value)
    if name == "insecure_local":
        flag = parse_bool(value)
        if flag is None:  # "ture" must not silently mean False
            raise ConfigError(f"insecure_local: expected true or false, got {value!r}")
        return flag
    if name == "allowed_roots":
        return tuple([value] if isinstance(value, str) else value)
    if name == "default_options":
        if not isinstance(value, dict):
            raise ConfigError("default_options must be a table")
        return dict(value)
    return value


def load_config(
    path: str | os.PathLike | None = None,
    *,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> ServerConfig:
    """Defaults, then the TOML file, then ``FACETRUST_*`` variables, then ``overrides`` (None = unset)."""
    values: dict[str, Any] = {}
    if path is not None:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        data = data.get("server", data)  # accept a [server] table or top-level keys
        unknown = set(data) - set(_FIELDS) - {"token_file"}
        if unknown:  # a typo must not silently fall back to a default
            raise ConfigError(f"unknown setting(s) in {path}: {', '.join(sorted(unknown))}")
        values.update(data)
    env = os.environ if env is None else env
    for name, var in ENV_VARS.items():
        if env.get(var):
            values[name] = env[var]
    values.update({k: v for k, v in overrides.items() if v is not None})
    token_file = values.pop("token_file", None)
    if token_file and not values.get("token"):
        values["token"] = Path(token_file).read_text().strip()
    unknown = set(values) - set(_FIELDS)
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    try:
        return ServerConfig(**{k: _coerce(k, v) for k, v in values.items()})
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc)) from exc
