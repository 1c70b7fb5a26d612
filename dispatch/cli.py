"""The `dispatch` command line."""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

import click
from pydantic import ValidationError

from dispatch.commands import bench as bench_cli
from dispatch.commands import carers as carers_cli
from dispatch.commands import clients as clients_cli
from dispatch.commands import contacts as contacts_cli
from dispatch.commands import imports as imports_cli
from dispatch.commands import replay as replay_cli
from dispatch.commands import review as review_cli
from dispatch.commands import risk as risk_cli
from dispatch.commands import rota as rota_cli
from dispatch.commands import soak as soak_cli
from dispatch.commands import staff as staff_cli
from dispatch.commands import users as users_cli
from dispatch.logs import configure_logging
from dispatch.settings import Settings


def _settings(**overrides: object) -> Settings:
    return Settings().model_copy(update={k: v for k, v in overrides.items() if v is not None})


def _refuse_unsafe(settings: Settings) -> None:
    """Exit 2 naming every built-in secret in use where real calls are made
    (dispatch/startup_checks.py); in development, print what production would refuse."""
    from dispatch.startup_checks import cautions, refusals

    problems = refusals(settings)
    for problem in problems:
        click.echo(f"refusing to start: {problem}", err=True)
    if problems:
        sys.exit(2)
    for caution in cautions(settings):
        click.echo(f"warning: {caution}", err=True)


class _Commands(click.Group):
    """Every command reads its settings from the environment: a setting that does not
    validate is named, with why, and the command exits 2 before it does anything."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ValidationError as exc:
            if exc.title != Settings.__name__:
                raise
            for error in exc.errors():
                name = "_".join(str(part) for part in error["loc"]).upper()
                got = error.get("input")
                click.echo(f"refusing to start: {name}={got!r}: {error['msg']}", err=True)
            ctx.exit(2)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Crisis and on-call dispatch for mental-health outreach teams (ACT, ICM, AOT).

    Every call, page and reply is an event on Kafka; stream processors route crisis calls to
    the on-duty worker by SMS and voice (Twilio). With no KAFKA_BOOTSTRAP_SERVERS,
    DATABASE_URL or TWILIO_API_BASE_URL set, the embedded broker, embedded PostgreSQL and
    the local Twilio sandbox are started instead.
    """


@main.command()
@click.option("--keep-state", is_flag=True, help="Keep the state directory after the demo.")
def demo(keep_state: bool) -> None:
    """Run the whole stack, play one crisis call end to end, print a summary, stop."""
    from dispatch.demo.scenario import DemoReport, run_scenario
    from dispatch.stack.runtime import Stack

    state_dir = Path(tempfile.mkdtemp(prefix="act-dispatch-demo-"))
    state_dir.chmod(0o755)  # PostgreSQL runs as its own system user when we are root
    settings = _settings(state_dir=state_dir)
    configure_logging(fmt=settings.log_format, level="warning")
    report = DemoReport()

    async def run() -> None:
        started = time.monotonic()
        stack = Stack(settings, durable=False)
        report.say("Starting the embedded stack (broker, PostgreSQL, Twilio sandbox, worker)...")
        await stack.start()
        report.say(f"Stack up in {time.monotonic() - started:.1f} s")
        try:
            await run_scenario(stack, report)
        finally:
            await stack.stop()
        report.say(f"Demo finished in {time.monotonic() - started:.1f} s; every process stopped.")

    try:
        asyncio.run(run())
    except Exception as exc:
        click.echo(f"demo failed: {exc}", err=True)
        click.echo(f"logs kept in {state_dir}", err=True)
        sys.exit(1)
    if not keep_state:
        shutil.rmtree(state_dir, ignore_errors=True)


@main.command()
@click.option("--port", type=int, default=None, help="Web port (default: WEB_PORT or 8080).")
@click.option("--seed/--no-seed", default=True, help="Load the demo team on an empty stack.")
@click.option(
    "--worker/--no-worker", default=True, help="Also run a faust worker (off: web edge only)."
)
def up(port: int | None, seed: bool, worker: bool) -> None:
    """Run the stack, supervised, until SIGTERM or Ctrl-C (then stop every child, exit 0).

    Embedded parts unless real ones are configured; a dead worker, embedded broker or
    embedded PostgreSQL is restarted, and state is kept in STATE_DIR across restarts. The
    embedded broker is also renewed in a quiet moment once it fills up
    (BROKER_RENEW_AFTER_RECORDS, BROKER_RENEW_QUIET_S).
    """
    from dispatch.stack.runtime import Stack
    from dispatch.stack.serve import serve

    settings = _settings(web_port=port or Settings().web_port or 8080)
    _refuse_unsafe(settings)
    configure_logging(fmt=settings.log_format, level=settings.log_level)

    def announce(stack: Stack) -> None:
        s = stack.settings
        click.echo(f"Webhooks: {s.public_base_url}/twilio/voice and /twilio/sms")
        click.echo(f"API:      {s.public_base_url}/api/dispatches (Bearer token, API_TOKENS)")
        click.echo(f"API docs: {s.public_base_url}/api/docs")
        click.echo(f"Console:  {s.public_base_url}/console/ (no account ships; the first")
        click.echo("          admin: dispatch user add --staff <you> --role admin --by <you>)")
        click.echo(f"Twilio:   {s.twilio_api_base_url}")
        if stack.fallback is not None:  # started with the stack
            click.echo(f"Fallback: {stack.fallback.url} (the lines' voice Fallback URL)")
        click.echo(f"Kafka:    {s.kafka_bootstrap_servers}   Postgres: {s.database_url}")
        click.echo(f"Children: {stack.child_pids()} (also {stack.state_dir}/children.json)")
        click.echo("Press Ctrl-C (or send SIGTERM) to stop.", nl=True)
        sys.stdout.flush()

    asyncio.run(serve(settings, seed=seed, with_worker=worker, announce=announce))
    click.echo("stopped")


@main.command()
def restore() -> None:
    """Publish the PostgreSQL event archive again into an empty broker.

    For a broker that lost its log (the embedded one forgets everything when it restarts;
    `dispatch up` restores it by itself). Needs DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS,
    topics created and empty, and no worker, projector or web edge running meanwhile.
    """
    from dispatch.stack.restore import RestoreRefused, restore_archive

    settings = _settings()
    if not settings.kafka_bootstrap_servers or not settings.database_url:
        raise click.UsageError("restore needs KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL")
    configure_logging(fmt=settings.log_format, level=settings.log_level)
    try:
        report = asyncio.run(restore_archive(settings))
    except RestoreRefused as exc:
        click.echo(f"restore refused: {exc}", err=True)
        sys.exit(1)
    if report.skipped:
        click.echo(f"nothing restored: {report.skipped}")
        return
    for topic, count in report.by_topic.items():
        click.echo(f"{topic}: {count} events")
    click.echo(
        f"{report.restored} events restored, {report.respooled} spooled events to publish "
        f"again, in {report.elapsed_s:.1f} s"
    )


@main.command()
def worker() -> None:
    """Run the faust stream processors (dispatch, notifier) against the configured stack."""
    from dispatch.worker.app import create_app, faust_worker

    settings = _settings()
    _refuse_unsafe(settings)
    if not settings.kafka_bootstrap_servers or not settings.database_url:
        raise click.UsageError("worker needs KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL")
    if not settings.twilio_api_base_url:
        raise click.UsageError(
            "worker needs TWILIO_API_BASE_URL (https://api.twilio.com, or the sandbox's URL)"
        )
    configure_logging(fmt=settings.log_format, level=settings.log_level)
    app = create_app(settings).app
    faust_worker(app).execute_from_commandline()


@main.command("fallback-twiml")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--number", default=None, help="Number to dial (default: DEFAULT_CRISIS_NUMBER).")
def fallback_twiml(out: Path, number: str | None) -> None:
    """Write the static TwiML a crisis line's Fallback URL serves: it dials the number."""
    from dispatch.fallback.document import write_fallback_twiml

    settings = _settings()
    _refuse_unsafe(settings)
    try:
        write_fallback_twiml(out, number or settings.default_crisis_number)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--number") from None
    click.echo(f"{out}: dials {number or settings.default_crisis_number}")
    click.echo("Serve it: python -m dispatch.fallback.server --file FILE --port PORT")


@main.group()
def topics() -> None:
    """Kafka topic definitions (infra/topics.yaml)."""


@topics.command("list")
def topics_list() -> None:
    """Print every topic with its key and events."""
    from dispatch.topics import topic_specs

    for spec in topic_specs():
        click.echo(f"{spec.name}  partitions={spec.partitions}  key: {spec.key}")
        click.echo(f"    events: {', '.join(spec.events)}")


@topics.command("create")
@click.option("--partitions", type=int, default=None, help="Override partitions per topic.")
@click.option("--replication-factor", type=int, default=None, help="Override replication.")
def topics_create(partitions: int | None, replication_factor: int | None) -> None:
    """Create the topics on KAFKA_BOOTSTRAP_SERVERS with their configs (idempotent)."""
    from dispatch.stack.broker import create_topics
    from dispatch.topics import topic_specs

    settings = _settings()
    if not settings.kafka_bootstrap_servers:
        raise click.UsageError("set KAFKA_BOOTSTRAP_SERVERS to the cluster to provision")
    specs = topic_specs()
    asyncio.run(
        create_topics(
            settings.kafka_bootstrap_servers,
            specs,
            partitions=partitions or specs[0].partitions,
            replication_factor=replication_factor or specs[0].replication_factor,
            with_config=True,
        )
    )
    click.echo(f"{len(specs)} topics present on {settings.kafka_bootstrap_servers}")


main.add_command(risk_cli.signal)
main.add_command(risk_cli.huddle)
main.add_command(risk_cli.plan)
main.add_command(risk_cli.hospital)
main.add_command(rota_cli.rota)
main.add_command(rota_cli.oncall)
main.add_command(soak_cli.soak)
main.add_command(review_cli.review)
main.add_command(carers_cli.carer)
main.add_command(carers_cli.consent)
main.add_command(staff_cli.staff)
main.add_command(clients_cli.referral)
main.add_command(clients_cli.client)
main.add_command(clients_cli.careplan)
main.add_command(contacts_cli.contact)
main.add_command(users_cli.user)
main.add_command(imports_cli.import_group)
main.add_command(imports_cli.export_group)
main.add_command(replay_cli.replay)
main.add_command(bench_cli.bench)

if __name__ == "__main__":
    main()
