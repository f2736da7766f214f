"""Rendering a node's templates in separate processes, each render with a hard timeout.

A thread cannot be interrupted, so a CPU-bound template in one would burn a core (and hold
the GIL) after its node timed out. Here each render runs in one of a few long-lived
processes (activities/render_process.py); one that overruns `Limits.template_max_seconds`
is killed and replaced, and its node fails with `template_limit`. The processes start with
a clean environment (no secrets) and a capped address space. The worker's event loop only
waits on pipes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import struct
import sys
from typing import TYPE_CHECKING, Any, Protocol

from flowmaestro.activities.render_process import frame
from flowmaestro.flows.errors import TemplateError
from flowmaestro.flows.templates import LIMIT, contains_template, first_template

if TYPE_CHECKING:
    from pydantic import JsonValue

    from flowmaestro.security import Limits

_HEADER = struct.Struct(">I")
_START_TIMEOUT = 60.0
"""A new process's imports (not its renders' budget): generous, for a loaded machine."""


class Renderer(Protocol):
    async def render(self, value: JsonValue, context: dict[str, JsonValue]) -> JsonValue:
        """`value` with its templates rendered; TemplateError when one fails or overruns."""
        ...


class _Process:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process

    @classmethod
    async def start(cls, limits: Limits) -> _Process:
        # Only what Python needs to start: the worker's secrets stay in the worker.
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "PYTHONPATH", "LANG")}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "flowmaestro.activities.render_process",
            limits.model_dump_json(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
        )
        started = cls(process)
        try:
            async with asyncio.timeout(_START_TIMEOUT):
                await started.read()
        except BaseException:
            await started.kill()
            raise
        return started

    async def call(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self._process.stdin is not None
        self._process.stdin.write(frame(request))
        await self._process.stdin.drain()
        return await self.read()

    async def read(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        (size,) = _HEADER.unpack(await self._process.stdout.readexactly(_HEADER.size))
        reply: dict[str, Any] = json.loads(await self._process.stdout.readexactly(size))
        return reply

    async def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self._process.kill()
        await self._process.wait()


class RenderPool:
    """`Limits.template_processes` render processes, started on first use; the entry point
    owns it (`async with`)."""

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._slots = asyncio.Semaphore(limits.template_processes)
        self._idle: list[_Process] = []
        self._busy: set[_Process] = set()

    async def __aenter__(self) -> RenderPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for process in [*self._idle, *self._busy]:
            await process.kill()
        self._idle.clear()

    async def render(self, value: JsonValue, context: dict[str, JsonValue]) -> JsonValue:
        if not contains_template(value):
            return value
        seconds = self._limits.template_max_seconds
        async with self._slots:
            process = self._idle.pop() if self._idle else await _Process.start(self._limits)
            self._busy.add(process)
            healthy = False
            try:
                async with asyncio.timeout(seconds):
                    reply = await process.call({"value": value, "context": context})
                healthy = True
            except TimeoutError:
                problem = (
                    f"rendering took longer than {seconds:g}s "
                    "(FLOWMAESTRO_LIMITS__TEMPLATE_MAX_SECONDS)"
                )
                raise TemplateError(first_template(value), problem, type=LIMIT) from None
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                problem = "the render process died (over its memory limit?)"
                raise TemplateError(first_template(value), problem, type=LIMIT) from exc
            finally:
                self._busy.discard(process)
                if healthy:
                    self._idle.append(process)
                else:
                    # Overran, died or was cancelled mid-render: never reused.
                    await asyncio.shield(process.kill())
        if "ok" in reply:
            result: JsonValue = reply["ok"]
            return result
        raise TemplateError(reply["template"], reply["problem"], type=reply["type"])
