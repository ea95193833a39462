"""``facetrust serve``: the REST API and web page in one process (uvicorn)."""

from __future__ import annotations

import argparse
import logging
import sys

from .config import MB


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("serve", help="run the REST API and web page (token required)",
                       description="Serve the REST API (OpenAPI at /docs) and the web page. The token comes "
                                   "from FACETRUST_TOKEN, --token-file or the config file.")
    p.add_argument("--config", metavar="TOML", help="settings file ([server] table; see docs/service.md)")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8000)")
    p.add_argument("--token-file", metavar="FILE", help="file holding the API token")
    p.add_argument("--insecure-local", action="store_true", default=None,
                   help="no token (loopback addresses only; for a local trial)")
    p.add_argument("--data-dir", metavar="DIR", help="database, uploaded media and reports (default ./facetrust-data)")
    p.add_argument("--db", dest="db_url", metavar="URL",
                   help="database URL (default SQLite in --data-dir; postgresql+psycopg://user:pw@host/db)")
    p.add_argument("--workers", type=int, help="scans running at once (default 2)")
    p.add_argument("--queue-size", type=int, help="scans waiting before 429 (default 32)")
    p.add_argument("--allow-root", dest="allowed_roots", action="append", metavar="DIR",
                   help="folder whose files may be scanned by server-side path (repeatable)")
    p.add_argument("--max-image-mb", type=float, help="upload limit for images (default 10)")
    p.add_argument("--max-video-mb", type=float, help="upload limit for videos (default 250)")
    p.add_argument("--retention-days", type=float, help="delete uploaded media after this long (default 7)")
    p.add_argument("--lease-s", type=float, help="seconds before a silent worker's job is taken over (default 30)")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.set_defaults(func=cmd_serve)
    return p


def cmd_serve(args: argparse.Namespace) -> int:
    from .config import ConfigError, load_config

    overrides = {k: getattr(args, k) for k in ("host", "port", "insecure_local", "data_dir", "db_url", "workers",
                                              "queue_size", "allowed_roots", "retention_days", "lease_s")}
    overrides["token_file"] = args.token_file
    for flag, name in (("max_image_mb", "max_image_bytes"), ("max_video_mb", "max_video_bytes")):
        value = getattr(args, flag)
        overrides[name] = int(value * MB) if value is not None else None
    try:
        config = load_config(args.config, **overrides).validate()
    except (ConfigError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import uvicorn

    from .app import create_app
    from .protocol import uvicorn_settings

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(config)
    where = f"http://{config.host}:{config.port}"
    print(f"facetrust serving {where}/ (API docs {where}/docs, store {config.database_url.split(':')[0]})",
          file=sys.stderr, flush=True)
    uvicorn.run(app, host=config.host, port=config.port, log_level=args.log_level, access_log=False,
                timeout_graceful_shutdown=10, **uvicorn_settings(config))
    return 0
