"""A faust worker that counts events per key into a table, for the recovery tests.

Run as `python -m tests.integration.faust_table_app` with the usual settings in the
environment (KAFKA_BOOTSTRAP_SERVERS, EMBEDDED_BROKER, STATE_DIR, FAUST_APP_ID, ...) plus
TABLE_APP_TOPIC (the source topic), TABLE_APP_STATUS (a JSON file the worker rewrites)
and TABLE_APP_COMPAT=0 to run without the embedded-broker fixes (the control).

The status file holds: pid, started_at, the counts restored when recovery completed
(`recovered`, `recovered_at`), the current counts, and the fetch wait of the consumer.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, cast

import faust

from dispatch.settings import Settings
from dispatch.stack.faust_settings import faust_app_kwargs
from dispatch.stack.kafka_compat import apply_embedded_broker_compat

CHANGELOG_LINGER_S = 0.05


class Status:
    """The worker's view, written atomically to a JSON file when it changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {"pid": os.getpid(), "started_at": time.time()}
        self._written = ""

    def write(self) -> None:
        text = json.dumps(self.data, sort_keys=True)
        if text == self._written:
            return
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(self.path)
        self._written = text


def consumer_fetch_wait_ms(app: faust.App) -> int | None:
    """The fetch_max_wait_ms of the running aiokafka consumer (None before it exists)."""
    thread = getattr(app.consumer, "_thread", None)
    consumer = getattr(thread, "_consumer", None)
    fetcher = getattr(consumer, "_fetcher", None)
    return None if fetcher is None else int(fetcher._fetch_max_wait_ms)


def create_app(settings: Settings, source_topic: str, status: Status) -> faust.App:
    # A producer linger makes the changelog's newest batches hold many records: the case
    # in which tansu's ListOffsets(latest) falls short of the high watermark.
    kwargs = {**faust_app_kwargs(settings), "producer_linger": CHANGELOG_LINGER_S}
    app = faust.App(settings.faust_app_id, **kwargs)
    topic = app.topic(source_topic, key_serializer="raw", value_serializer="raw")
    counts = app.Table("counts", default=int, partitions=settings.topic_partitions)

    @app.agent(topic)
    async def count(stream: Any) -> None:
        async for key, _value in stream.items():
            counts[key.decode()] += 1

    async def _recovered(sender: Any, *_: Any, signal: Any, **__: Any) -> None:
        if "recovered" not in status.data:
            status.data["recovered"] = dict(counts.items())
            status.data["recovered_at"] = time.time()
            status.write()

    async def _report() -> None:
        status.data["counts"] = dict(counts.items())
        status.data["fetch_max_wait_ms"] = consumer_fetch_wait_ms(app)
        status.write()

    app.on_rebalance_complete.connect(cast(Any, _recovered))  # mode's handler type is opaque
    app.timer(interval=0.05)(_report)
    return app


def main() -> None:
    settings = Settings()
    status = Status(Path(os.environ["TABLE_APP_STATUS"]))
    if settings.embedded_broker and os.environ.get("TABLE_APP_COMPAT", "1") == "1":
        apply_embedded_broker_compat(
            fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
            agents_fetch_max_wait_ms=settings.agents_fetch_max_wait_ms,
        )
    app = create_app(settings, os.environ["TABLE_APP_TOPIC"], status)
    worker = faust.Worker(app, loglevel="INFO", override_logging=True)
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
