"""One `dev` per data dir: a second holder is refused with what runs there; a released (or
dead) holder leaves nothing that blocks the next start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowmaestro.dev.lock import (
    AlreadyRunningError,
    DevLock,
    find_running,
    point_elsewhere,
    read_running,
)
from tests.support.ports import free_port


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


def test_watch_finds_a_dev_started_with_another_data_dir(tmp_path: Path) -> None:
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    assert find_running(home) is None
    lock = DevLock(elsewhere)
    lock.acquire()
    try:
        lock.record({"pid": os.getpid(), "ui": "http://127.0.0.1:9", "token": "t"})
        assert find_running(home) is None, "no pointer yet"
        point_elsewhere(home, elsewhere)
        assert find_running(home) == {"pid": os.getpid(), "ui": "http://127.0.0.1:9", "token": "t"}
        home_lock = DevLock(home)
        home_lock.acquire()
        try:
            assert find_running(home) == {"pid": os.getpid()}, "the home dir's own dev first"
        finally:
            home_lock.release()
    finally:
        lock.release()
    assert find_running(home) is None, "a pointer to a stopped dev finds nothing"


@pytest.mark.slow
def test_watch_uses_that_dev_and_says_when_its_gateway_is_unreachable(tmp_path: Path) -> None:
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    port = free_port()  # nothing listens there
    lock = DevLock(elsewhere)
    lock.acquire()
    try:
        lock.record({"pid": os.getpid(), "ui": f"http://127.0.0.1:{port}/", "token": "t"})
        point_elsewhere(home, elsewhere)
        env = {**os.environ, "FLOWMAESTRO_STATE_DIR": str(home)}
        env.pop("FLOWMAESTRO_TOKEN", None)
        watch = subprocess.run(
            [str(Path(sys.executable).with_name("flowmaestro")), "watch", "ex_1", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        lock.release()
    assert watch.returncode == 4, watch.stderr
    assert "no token" not in watch.stderr
    assert f"127.0.0.1:{port}" in watch.stderr
    assert "Unclosed client session" not in watch.stderr
    assert "Traceback" not in watch.stderr
