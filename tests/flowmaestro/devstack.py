"""`flowmaestro dev` as a subprocess: its banner parsed, its output kept, its process tree."""

from __future__ import annotations

import contextlib
import re
import signal
from typing import TYPE_CHECKING

import psutil

from tests.support.processes import FLOWMAESTRO, Child

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

_BANNER = re.compile(r"^  (UI|token|Temporal|Temporal UI|demo):\s+(\S+)$")


class Dev(Child):
    def __init__(self, args: Sequence[str], env: dict[str, str]) -> None:
        super().__init__(FLOWMAESTRO, "dev", *args, env=env, name="dev")

    @property
    def banner(self) -> dict[str, str]:
        """The banner's addresses by name (UI, token, Temporal, ...)."""
        return {m.group(1): m.group(2) for line in self.lines if (m := _BANNER.match(line))}

    def _banner_complete(self) -> bool:
        """The banner has been printed to its blank last line."""
        starts = [
            i for i, line in enumerate(self.lines) if line.startswith("FlowMaestro is running")
        ]
        return bool(starts) and "" in self.lines[starts[0] :]

    async def wait_ready(self, timeout: float = 240) -> None:
        await self.wait_until(self._banner_complete, "its banner", timeout)
        assert "UI" in self.banner, f"no UI in the banner:\n{self.output}"

    async def interrupt(self, timeout: float = 90) -> int:
        """Ctrl-C; its exit status."""
        code = await self.stop(signal.SIGINT, timeout)
        assert code is not None
        return code


@contextlib.asynccontextmanager
async def running_dev(args: Sequence[str], env: dict[str, str]) -> AsyncIterator[Dev]:
    """`flowmaestro dev ARGS`; killed with its whole tree if the test leaves it running."""
    dev = await Dev(args, env).start()
    try:
        yield dev
    finally:
        await dev.kill_tree()


def alive(processes: Sequence[psutil.Process]) -> list[psutil.Process]:
    """Those of `processes` still running (zombies count as gone: they are only a record)."""
    left = []
    for p in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                left.append(p)
    return left
