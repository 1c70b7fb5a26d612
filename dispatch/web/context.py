"""What the web handlers share: settings, read models, the spool, the clock, the pool."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from aiohttp import web

from dispatch.clock import Clock
from dispatch.ingress.spool import IngressSpool
from dispatch.settings import Settings
from projections.queries import ReadModels


@dataclass(frozen=True)
class WebContext:
    settings: Settings
    read_models: ReadModels
    spool: IngressSpool
    clock: Clock
    public_base_url: str
    pool: asyncpg.Pool  # the process's one pool, for queries beyond the read models


CONTEXT: web.AppKey[WebContext] = web.AppKey("context", WebContext)


def ctx(request: web.Request) -> WebContext:
    return request.app[CONTEXT]
