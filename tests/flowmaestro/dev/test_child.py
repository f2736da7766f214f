"""A supervised child: its output prefixed line by line, and stopping it leaves nothing of its
process group, even when it ignores SIGTERM and has started processes of its own."""

from __future__ import annotations

import asyncio
import io

import psutil
import pytest

from flowmaestro.dev.child import Child, ChildError
from flowmaestro.dev.console import Console


class Recording(Console):
    """A console into a string that tells when a line arrives."""

    def __init__(self) -> None:
        self.out = io.StringIO()
        super().__init__(self.out)
        self.changed = asyncio.Event()

    def line(self, name: str, text: str) -> None:
        super().line(name, text)
        self.changed.set()

    async def until(self, text: str) -> None:
        async with asyncio.timeout(30):
            while text not in self.out.getvalue():
                self.changed.clear()
                await self.changed.wait()


async def test_output_is_prefixed_and_the_exit_status_kept() -> None:
    console = Recording()
    child = Child("part", ["sh", "-c", "echo one; echo two >&2; exit 3"], {}, console)
    await child.start()
    assert await child.wait() == 3
    assert console.out.getvalue().splitlines() == ["part     | one", "part     | two"]
    with pytest.raises(ChildError, match=r"^part exited with status 3 \(its log is above\)$"):
        child.check_alive()


async def test_stop_kills_a_group_that_ignores_sigterm() -> None:
    console = Recording()
    script = "trap '' TERM; sleep 600 & echo started $!; wait"
    child = Child("stubborn", ["sh", "-c", script], {}, console)
    await child.start()
    await console.until("started")
    leader = psutil.Process(child.pid)
    grandchild = psutil.Process(int(console.out.getvalue().split()[-1]))
    await child.stop(timeout=1)
    assert child.returncode is not None
    assert "dev      | stubborn did not stop in 1s; killing it" in console.out.getvalue()
    _, alive = psutil.wait_procs([leader, grandchild], timeout=10)
    assert alive == []
