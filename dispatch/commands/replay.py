"""`dispatch replay [--check] [--from-broker]`: rebuild every read model from the event
archive, or from the broker's event topics read from offset 0 (projections.replay_broker).

Without --check the rebuilt tables are swapped in atomically while the projector's next
transaction waits (docs/decisions/020); with --check they are compared with the live ones
row for row and thrown away: exit 0 when equal, 1 naming the differing rows.
"""

from __future__ import annotations

import asyncio
import sys
import time
from contextlib import ExitStack
from typing import Any

import click

from dispatch.settings import Settings


class ProgressDisplay:
    """click's progress bar on stderr with events/s; opened once the total is known."""

    def __init__(self, stack: ExitStack, label: str) -> None:
        self._stack = stack
        self._label = label
        self._bar: Any = None
        self._shown = 0
        self._started = 0.0

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            self._started = time.monotonic()
            self._bar = self._stack.enter_context(
                click.progressbar(
                    length=max(total, 1),
                    label=self._label,
                    file=sys.stderr,
                    show_pos=True,
                    item_show_func=lambda rate: rate,
                )
            )
        self._bar.length = max(total, 1)
        elapsed = time.monotonic() - self._started
        rate = f"{done / elapsed:,.0f} events/s" if elapsed > 0 else ""
        self._bar.update(done - self._shown, rate)
        self._shown = done


@click.command()
@click.option("--check", is_flag=True, help="Compare with the live tables instead of swapping.")
@click.option(
    "--batch",
    type=click.IntRange(1, 100_000),
    default=10_000,
    show_default=True,
    help="Events per transaction.",
)
@click.option("--keep-old", is_flag=True, help="Keep the replaced tables (schema replaced_<n>).")
@click.option(
    "--lock-timeout",
    type=click.FloatRange(0.1, 600),
    default=5.0,
    show_default=True,
    help="Seconds the swap waits for a table's lock before trying again.",
)
@click.option(
    "--from-broker",
    is_flag=True,
    help="Read the events from the broker's event topics (KAFKA_BOOTSTRAP_SERVERS), every "
    "partition from offset 0 to its end when the replay starts, instead of the archive. "
    "Events the broker no longer holds (a topic's retention deleted them) are the archive's "
    "job: a log that no longer starts at 0 is refused; replay from the archive then.",
)
@click.option(
    "--archived-wait",
    type=click.FloatRange(0, 3600),
    default=30.0,
    show_default=True,
    help="With --from-broker: seconds to wait for the projector to archive the events read.",
)
def replay(
    check: bool,
    batch: int,
    keep_old: bool,
    lock_timeout: float,
    from_broker: bool,
    archived_wait: float,
) -> None:
    """Rebuild every PostgreSQL read model from the event archive (or, with --from-broker,
    from the broker's event topics), then swap them in (or compare them: --check)."""
    from dispatch.logs import configure_logging
    from projections.replay import Replay, ReplayError, Swapped
    from projections.replay_broker import BrokerReplay
    from projections.replay_check import describe

    settings = Settings()
    if not settings.database_url:
        raise click.UsageError("set DATABASE_URL")
    if from_broker and not settings.kafka_bootstrap_servers:
        raise click.UsageError("--from-broker: set KAFKA_BOOTSTRAP_SERVERS (the broker to read)")
    configure_logging(fmt=settings.log_format, level="warning")
    with ExitStack() as stack:
        job: Replay
        if from_broker:
            job = BrokerReplay(
                settings.database_url,
                settings.kafka_bootstrap_servers,
                archived_wait_s=archived_wait,
                batch=batch,
                progress=ProgressDisplay(stack, "Replaying the broker's topics"),
            )
        else:
            job = Replay(
                settings.database_url,
                batch=batch,
                progress=ProgressDisplay(stack, "Replaying the archive"),
            )
        try:
            result = asyncio.run(
                job.run(check=check, keep_old=keep_old, lock_timeout_s=lock_timeout)
            )
        except ReplayError as exc:
            raise click.ClickException(str(exc)) from None
    t = job.tally
    click.echo(
        f"Replayed {t.done:,} events into {job.shadow} in {t.seconds:.1f} s ({t.rate:,.0f} "
        f"events/s): {t.refused} refused by a handler, {t.not_understood} not understood, "
        f"{t.caught_up} archived while it ran"
        + (f" or not on the broker, {t.duplicates} second copies left out" if from_broker else "")
    )
    if isinstance(result, Swapped):
        kept = f"; the old ones kept in {result.retired}" if result.retired else ""
        click.echo(f"Swapped the read models in (projector held {result.paused_s:.2f} s){kept}")
        return
    different = [d for d in result if not d.equal]
    rows = sum(d.live_rows for d in result)
    if not different:
        click.echo(f"Equal: {len(result)} read models, {rows:,} rows, row for row")
        return
    click.echo(f"DIFFERENT: {len(different)} of {len(result)} read models")
    for diff in different:
        click.echo("\n".join(describe(diff)))
    sys.exit(1)
