"""One `flowmaestro dev` per data dir: an flock on a file that also says where it runs.

The kernel drops an flock when its holder dies, however it dies, so a stale file never
blocks the next start; its JSON body tells a second `dev`, and `watch`, what is running.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path
from typing import IO, Any

from flowmaestro.errors import FlowMaestroError


class AlreadyRunningError(FlowMaestroError):
    """Another `flowmaestro dev` holds the data dir."""

    exit_code = 5


class DevLock:
    """Hold `state_dir/dev.lock` for the supervisor's lifetime; `record()` publishes addresses."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "dev.lock"
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Owner-only: the record carries a development token.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        file = os.fdopen(fd, "r+", encoding="utf-8")
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            info = read_running(self.path.parent) or {}
            where = f" (pid {info['pid']})" if "pid" in info else ""
            ui = f"; its UI is at {info['ui']}" if "ui" in info else ""
            raise AlreadyRunningError(
                f"flowmaestro dev is already running for {self.path.parent}{where}{ui}",
                hint="use that one, stop it (Ctrl-C in its terminal), or pass another --data-dir",
            ) from None
        self._file = file
        self.record({"pid": os.getpid()})

    def record(self, info: dict[str, Any]) -> None:
        assert self._file is not None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(json.dumps(info))
        self._file.flush()

    def release(self) -> None:
        if self._file is None:
            return
        # Emptied first: the file outlives the lock, and must not describe a dead supervisor.
        self._file.truncate(0)
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()
        self._file = None


def read_running(state_dir: Path) -> dict[str, Any] | None:
    """What the `dev` running for `state_dir` published, or None when none runs there."""
    path = state_dir / "dev.lock"
    try:
        with path.open(encoding="utf-8") as file:
            try:
                fcntl.flock(file, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                with contextlib.suppress(ValueError):
                    info: dict[str, Any] = json.loads(file.read())
                    return info
                return {}
            fcntl.flock(file, fcntl.LOCK_UN)
            return None
    except FileNotFoundError:
        return None


# In the default state dir: the data dir of a `dev` started with --data-dir, for `watch`.
_ELSEWHERE = "dev.elsewhere"


def point_elsewhere(home: Path, data_dir: Path) -> None:
    """Record in `home` (the default state dir) that a `dev` runs on `data_dir`."""
    home.mkdir(parents=True, exist_ok=True)
    (home / _ELSEWHERE).write_text(str(data_dir), encoding="utf-8")


def find_running(home: Path) -> dict[str, Any] | None:
    """The `dev` running for `home`, else the one `home` points to (whatever its data dir).

    A stale pointer is harmless: read_running checks that the lock is held."""
    info = read_running(home)
    if info is not None:
        return info
    try:
        elsewhere = Path((home / _ELSEWHERE).read_text(encoding="utf-8").strip())
    except OSError:
        return None
    return None if elsewhere == home else read_running(elsewhere)
