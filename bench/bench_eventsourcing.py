"""The peer: the `eventsourcing` library rebuilding a projection from its own PostgreSQL store.

Its idiomatic way, as its documentation shows it: an Application whose aggregates (clients)
record events in the library's PostgreSQL recorder, and a Projection run by its
ProjectionRunner that folds each event into a materialised view (a PostgresTrackingRecorder
with one table: per client, how many events and the newest one's time) and records its
tracking position in the same transaction, one transaction per event. The equivalent of one
of our read models, built from the same kind of store, on the same PostgreSQL.

Needs the bench extra: `pip install -e '.[bench]'`.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from eventsourcing.application import Application
from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from psycopg.sql import SQL, Identifier


class Client(Aggregate):
    @event("Enrolled")
    def __init__(self, name: str) -> None:
        self.name = name

    @event("Contacted")
    def contacted(self, kind: str) -> None:
        self.last_contact = kind


class Caseload(Application[Any]):
    """The write side: clients and their contacts."""


class ClientSummaryView(PostgresTrackingRecorder):
    """The read model: per client, how many events and the time of the newest."""

    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.summary = SQL("{0}.{1}").format(
            Identifier(self.datastore.schema), Identifier("client_summary")
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {0} (client_id uuid PRIMARY KEY, "
                "events bigint NOT NULL, last_at timestamptz NOT NULL)"
            ).format(self.summary)
        )

    def count(self, client_id: Any, at: Any, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                SQL(
                    "INSERT INTO {0} AS s VALUES (%s, 1, %s) ON CONFLICT (client_id) DO UPDATE "
                    "SET events = s.events + 1, last_at = GREATEST(s.last_at, EXCLUDED.last_at)"
                ).format(self.summary),
                (client_id, at),
                prepare=True,
            )
            self._insert_tracking(curs, tracking)

    def rows(self) -> int:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT sum(events) AS n FROM {0}").format(self.summary))
            row = curs.fetchone()
            return int(row["n"] or 0) if row else 0


class ClientSummary(Projection[ClientSummaryView]):
    name = "clientsummary"

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.count(domain_event.originator_id, domain_event.timestamp, tracking)


def environment(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parts.path.lstrip("/"),
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": parts.username or "postgres",
        "POSTGRES_PASSWORD": parts.password or "unused",  # the embedded server trusts localhost
    }


def store(url: str, events: int, clients: int = 500) -> int:
    """Record about `events` events (enrolments and contacts) in the library's store."""
    app = Caseload(env=environment(url))
    try:
        per_client = max(1, events // clients)
        written = 0
        for n in range(clients):
            client = Client(name=f"client-{n}")
            for i in range(per_client - 1):
                client.contacted(kind="face_to_face" if i % 3 else "phone")
            app.save(client)
            written += per_client
        return written
    finally:
        app.close()


def rebuild(url: str, events: int, timeout_s: float = 600.0) -> float:
    """Run the projection over the stored events from the start; returns events/s."""
    env = environment(url)
    started = time.monotonic()
    with ProjectionRunner(
        application_class=Caseload,
        projection_class=ClientSummary,
        view_class=ClientSummaryView,
        env=env,
    ) as runner:
        last = runner.app.recorder.max_notification_id()
        runner.wait(last, timeout=timeout_s)
        seconds = time.monotonic() - started
        counted = runner.view.rows()
    if counted != events:
        raise RuntimeError(f"the library's projection counted {counted} of {events} events")
    return events / seconds
