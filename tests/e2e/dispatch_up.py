"""`dispatch up` as a child of the test: started on a STATE_DIR of the test's, its PIDs read
from what it prints and from STATE_DIR/children.json, stopped or killed by PID."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from pathlib import Path

import psutil

ANNOUNCED_WITHIN_S = 120.0


class DispatchUp:
    def __init__(self, state_dir: Path, web_port: int, *, twilio_api_base_url: str = "") -> None:
        self.state_dir = state_dir
        self.web_port = web_port
        self.log_path = state_dir / "dispatch-up.log"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "TWILIO_API_BASE_URL")
        } | {
            "STATE_DIR": str(state_dir),
            "TWILIO_API_BASE_URL": twilio_api_base_url,
            "TOPIC_PARTITIONS": "1",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "info",
        }
        self.proc: asyncio.subprocess.Process | None = None
        self.kafka = ""
        self.database_url = ""
        self.twilio = ""  # the Twilio API it uses: its own sandbox's when none was given
        self.pids: list[int] = []  # every process this run started that the test saw

    async def start(self) -> None:
        """Run `dispatch up` and wait until it has printed where everything is."""
        with self.log_path.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                *("-m", "dispatch.cli", "up", "--port", str(self.web_port), "--no-seed"),
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                env=self.env,
                start_new_session=True,  # our terminal's Ctrl-C is not its business
            )
        self.pids.append(self.proc.pid)
        try:
            await asyncio.wait_for(self._read_announcement(), ANNOUNCED_WITHIN_S)
        except (TimeoutError, EOFError) as exc:
            raise RuntimeError(f"dispatch up did not start:\n{self.log_tail()}") from exc
        self.pids += self.family_pids()

    async def _read_announcement(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while True:
            line = (await self.proc.stdout.readline()).decode()
            if not line:
                raise EOFError("dispatch up exited")
            if line.startswith("Twilio:"):
                self.twilio = line.split()[1]
            if line.startswith("Kafka:"):
                parts = line.split()
                self.kafka, self.database_url = parts[1], parts[3]
            if line.startswith("Press Ctrl-C"):
                return

    def children(self) -> dict[str, int]:
        """The supervised children by name, as STATE_DIR/children.json lists them."""
        data = json.loads((self.state_dir / "children.json").read_text())
        return {entry["name"]: entry["pid"] for entry in data["children"]}

    def family_pids(self) -> list[int]:
        """`dispatch up`, its children and theirs (PostgreSQL's backends) now."""
        assert self.proc is not None
        found = [self.proc.pid]
        for pid in (self.proc.pid, *self.children().values()):
            with contextlib.suppress(psutil.Error):
                found += [p.pid for p in psutil.Process(pid).children(recursive=True)]
        return sorted(set(found))

    async def terminate(self, timeout_s: float = 90.0) -> int:
        """SIGTERM, as systemd or a container runtime sends it; its exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), timeout_s)

    async def kill_everything(self) -> None:
        """SIGKILL to every process of this run the test saw (a machine's crash, in effect)."""
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.proc is not None:
            await self.proc.wait()
        gone_by(self.pids)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def gone_by(pids: list[int], timeout_s: float = 10.0) -> list[int]:
    """Wait (bounded) for the processes to exit; returns those still alive."""
    procs = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            procs.append(psutil.Process(pid))
    _, alive = psutil.wait_procs(procs, timeout=timeout_s)
    return [p.pid for p in alive if p.status() != psutil.STATUS_ZOMBIE]
