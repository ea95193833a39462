"""The FastAPI app: ``create_app(config)`` wires the store, the worker pool, the middleware and the
routers (``routes/``: one module per group; they read the services from ``app.state``).

Blocking work (database, hashing, file moves) runs in Starlette's thread pool; a synchronous image
request awaits its scan on an asyncio future that the worker resolves, so waiting costs no thread.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from .. import __version__
from . import errors
from .config import MB, ServerConfig
from .jobs import WorkerPool
from .metrics import Metrics
from .middleware import BodyLimit, HeaderLimit, RequestMetrics, SecurityHeaders
from .routes import operations, page, scan_files, scans, verify


def create_app(config: ServerConfig, *, store=None, media=None) -> FastAPI:
    from .media import MediaStore
    from .store import Store

    config.validate()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    own_store = store is None
    store = store if store is not None else Store(config.database_url)
    media = media if media is not None else MediaStore(config.data_dir)
    pool = WorkerPool(store, media, config)
    metrics = Metrics(store, pool)
    pool.metrics = metrics

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await run_in_threadpool(store.migrate)
        pool.start()
        try:
            yield
        finally:
            await run_in_threadpool(pool.stop)
            if own_store:
                store.close()

    app = FastAPI(title="facetrust", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Face forensics as a service: is this face genuine, where, how and why.")
    app.state.config, app.state.store, app.state.media, app.state.pool = config, store, media, pool
    app.state.metrics = metrics  # the routers read their services from app.state
    errors.install(app)
    # Outermost last: headers on every answer, metrics see the final status (refusals included), header
    # limits before anything reads the body, the body's size and time limits around every route.
    app.add_middleware(BodyLimit, max_bytes=max(config.max_image_bytes, config.max_video_bytes) + MB,
                       idle_timeout_s=config.body_idle_timeout_s, timeout_s=config.body_timeout_s)
    app.add_middleware(HeaderLimit, max_count=config.max_header_count, max_bytes=config.max_header_bytes)
    app.add_middleware(RequestMetrics, metrics=metrics)
    app.add_middleware(SecurityHeaders)

    app.include_router(page.router)
    page.mount_static(app)
    app.include_router(operations.router)
    app.include_router(scans.router)
    app.include_router(scan_files.router)
    app.include_router(verify.router)
    return app
