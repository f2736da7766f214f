"""One `dev` per data dir: a second holder is refused with what runs there; a released (or
dead) holder leaves nothing that blocks the next start."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from flowmaestro.dev.lock import AlreadyRunningError, DevLock, read_running

if TYPE_CHECKING:
    from pathlib import Path


def test_a_second_holder_is_refused_with_what_runs(tmp_path: Path) -> None:
    first = DevLock(tmp_path)
    first.acquire()
    first.record({"pid": os.getpid(), "ui": "http://127.0.0.1:1234/"})
    with pytest.raises(AlreadyRunningError) as refused:
        DevLock(tmp_path).acquire()
    assert refused.value.exit_code == 5
    assert f"pid {os.getpid()}" in refused.value.message
    assert "http://127.0.0.1:1234/" in refused.value.message
    assert read_running(tmp_path) == {"pid": os.getpid(), "ui": "http://127.0.0.1:1234/"}
    first.release()
    assert read_running(tmp_path) is None
    again = DevLock(tmp_path)
    again.acquire()
    again.release()


def test_a_killed_holder_does_not_block_the_next(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, pathlib; from flowmaestro.dev.lock import DevLock; "
            "lock = DevLock(pathlib.Path(sys.argv[1])); lock.acquire(); print('held', flush=True); "
            "sys.stdin.read()",
            str(tmp_path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        assert read_running(tmp_path) == {"pid": holder.pid}
        with pytest.raises(AlreadyRunningError):
            DevLock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait(10)
    # The kernel dropped the lock with the process; its stale record is ignored.
    assert read_running(tmp_path) is None
    lock = DevLock(tmp_path)
    lock.acquire()
    lock.release()
