"""What the benchmarks that start a stack of their own share."""

from __future__ import annotations

import tempfile
from pathlib import Path

from dispatch.commands.soak import LOOPBACK_ONLY as SOAK_LOOPBACK_ONLY

# Whatever the environment says: embedded parts and the sandbox on loopback, as the soak runs.
LOOPBACK_ONLY = {**SOAK_LOOPBACK_ONLY, "log_level": "warning"}


def state_dir(prefix: str) -> Path:
    """A fresh state directory the embedded PostgreSQL's own user can traverse."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o711)
    return path
