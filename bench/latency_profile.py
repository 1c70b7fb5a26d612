"""py-spy beside a latency run: where the stack's processes spend their time.

    .venv/bin/python -m bench.bench_latency --rates 30 --seconds 20 --profile var/profile

py-spy (the `bench` extra: `pip install -e '.[bench]'`) samples each process from outside,
without touching its code, and writes collapsed stacks (`--format raw`) of the moments a
thread held the GIL (`--gil`: Python running, not waiting in a poll or a system call; without
it, this machine's samples counted waits as work); `summary` prints the functions most often
on top of the stack (self) and on it at all (total). The web
edge, relay and projector share the bench's own process; the faust worker and the Twilio
sandbox (decision 056) are processes of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import os
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class Profiler:
    """py-spy processes recording the given PIDs; each is stopped by its own PID."""

    def __init__(self, out_dir: Path) -> None:
        self._out = out_dir
        self._procs: list[asyncio.subprocess.Process] = []
        self.outputs: list[Path] = []

    @staticmethod
    def available() -> bool:
        return _py_spy() is not None

    @staticmethod
    def written(out_dir: Path | None) -> list[Path]:
        return sorted(out_dir.glob("*.txt")) if out_dir is not None and out_dir.is_dir() else []

    async def start(self, pids: dict[str, int], label: str, seconds: float) -> None:
        self._out.mkdir(parents=True, exist_ok=True)
        for name, pid in pids.items():
            out = self._out / f"{label}-{name}.txt"
            proc = await asyncio.create_subprocess_exec(
                str(_py_spy()), "record", "--pid", str(pid), "--duration", str(int(seconds) + 1),
                "--rate", "200", "--format", "raw", "--output", str(out), "--nonblocking", "--gil",
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            self._procs.append(proc)
            self.outputs.append(out)

    async def wait(self) -> None:
        for proc in self._procs:
            try:
                async with asyncio.timeout(30):
                    await proc.wait()
            except TimeoutError:
                proc.kill()  # the py-spy this profiler started, by its PID
                await proc.wait()
        self._procs.clear()


class GcPauses:
    """The garbage collector's pauses in this process (the web edge, relay and projector's),
    by generation, from gc.callbacks."""

    def __init__(self) -> None:
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._began = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.pauses[info["generation"]].append((time.perf_counter() - self._began) * 1000)

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def line(self) -> str:
        parts = [
            f"gen{g}: {len(v)} x, max {max(v):.1f} ms, sum {sum(v):.0f} ms"
            for g, v in self.pauses.items()
            if v
        ]
        return "  GC pauses in the stack's process: " + ("; ".join(parts) or "none")


class CpuUse:
    """CPU seconds (user + system) each process spent between `start` and `line`, read from
    /proc through psutil, beside the whole machine's: how much of the two cores each part
    of the stack took per call (the profile shows where within a process the time goes).
    A name given with children=True counts the process's children with it (PostgreSQL's
    backends); "rest" is everything else on the machine (the load generator above all)."""

    def __init__(self, pids: dict[str, int], *, children: frozenset[str] = frozenset()) -> None:
        import psutil  # the bench extra

        self._procs = {name: psutil.Process(pid) for name, pid in pids.items()}
        self._children = children
        self._began: dict[str, float] = {}
        self._wall = 0.0
        self._samples: list[dict[str, float]] = []

    def _cpu(self) -> dict[str, float]:
        import psutil

        out: dict[str, float] = {}
        for name, proc in self._procs.items():
            total = 0.0
            family = [proc, *proc.children(recursive=True)] if name in self._children else [proc]
            for p in family:
                with contextlib.suppress(psutil.NoSuchProcess):
                    t = p.cpu_times()
                    total += t.user + t.system
            out[name] = total
        m = psutil.cpu_times()
        out["machine"] = m.user + m.system + m.nice + m.irq + m.softirq
        return out

    def start(self) -> None:
        self._began, self._wall = self._cpu(), time.monotonic()
        self._samples = [self._began]

    async def sample(self, every_s: float) -> None:
        """Read every `every_s` until cancelled: what `windows_line` prints."""
        while True:
            await asyncio.sleep(every_s)
            self._samples.append(self._cpu())

    def windows_line(self, every_s: float) -> str:
        """Cores each process kept busy in each window `sample` read: whether a part's cost
        per call grows while the run goes on."""
        parts = []
        for i, (a, b) in enumerate(itertools.pairwise(self._samples)):
            busy = "/".join(f"{(b[n] - a[n]) / every_s:.2f}" for n in self._procs)
            parts.append(f"{i * every_s:g}-{(i + 1) * every_s:g} s {busy}")
        names = "/".join(self._procs)
        return f"  cores busy by {every_s:g}-s window ({names}): " + ", ".join(parts)

    def line(self, calls: int) -> str:
        now, wall = self._cpu(), time.monotonic() - self._wall
        used = {name: now[name] - self._began.get(name, 0.0) for name in now}
        machine = used.pop("machine")
        used["rest"] = max(machine - sum(used.values()), 0.0)
        cores = os.cpu_count() or 1
        per_call = ", ".join(f"{n} {sec * 1000 / max(calls, 1):.1f}" for n, sec in used.items())
        busy = machine / (wall * cores) if wall > 0 else 0.0
        return (
            f"  CPU per call (ms): {per_call}; machine {machine * 1000 / max(calls, 1):.1f}"
            f" ({busy:.0%} of {cores} cores over {wall:.0f} s)"
        )


def _py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"  # the venv's, when not on PATH
    return str(beside) if beside.is_file() else shutil.which("py-spy")


def summary(path: Path, top: int = 25) -> list[str]:
    """The functions most often on top of the stack (self) and on it at all (total)."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        samples += count
        frames = [_short(f) for f in stack.split(";")]
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    out = [f"{path.name}: {samples} samples"]
    out += [f"  self  {n / samples:6.1%}  {f}" for f, n in own.most_common(top)] if samples else []
    interesting = [(f, n) for f, n in total.most_common(400) if "dispatch/" in f or "gc" in f]
    out += [f"  total {n / samples:6.1%}  {f}" for f, n in interesting[:top]] if samples else []
    return out


def _short(frame: str) -> str:
    """`func (path/to/site-packages/pkg/mod.py:123)` -> `func (pkg/mod.py)`."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", f"{ROOT.name}/", "lib/python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
            break
    return f"{name} ({where})"
