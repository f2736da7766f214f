"""Following an execution in a terminal: the view redrawn from the state as events arrive, and
its prompts answered from the keyboard (given up when answered elsewhere)."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TYPE_CHECKING, Any

from rich.live import Live
from rich.markup import escape

from flowmaestro.client import ClientError
from flowmaestro.watch.answer import AnswerError, parse_answer, question
from flowmaestro.watch.keyboard import Keyboard
from flowmaestro.watch.render import render
from flowmaestro.watch.state import ExecutionState

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from flowmaestro.client import Client

# The gateway's answers after which asking again is pointless.
_SETTLED = {"already_answered", "expired", "not_found"}


class TerminalView:
    def __init__(
        self, client: Client, execution_id: str, console: Console, interactive: bool
    ) -> None:
        self._client = client
        self._execution_id = execution_id
        self._console = console
        self._interactive = interactive
        self.state = ExecutionState(execution_id)
        self._prompts: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._changed = asyncio.Event()
        self._asking: dict[str, Any] | None = None

    async def run(self) -> str:
        """Show the execution until it ends; its final status."""
        keyboard_or_none = Keyboard(sys.stdin.fileno()) if self._interactive else _NoKeyboard()
        with keyboard_or_none as keyboard:
            pumping = asyncio.create_task(self._pump())
            try:
                if keyboard is not None and self._console.is_terminal:
                    await self._answer_live(keyboard, pumping)
                else:
                    await self._answer_in_turns(keyboard, pumping)
                await pumping
            finally:
                pumping.cancel()
        return self.state.status

    async def _answer_live(self, keyboard: Keyboard, pumping: asyncio.Task[None]) -> None:
        """On a terminal: one live view the whole time; the question and what is typed are
        drawn in it, so nodes keep moving while a prompt waits."""

        def view() -> RenderableType:
            asking = self._asking
            if asking is None:
                return render(self.state)
            line = f"{question(asking)} {keyboard.typed}"
            return render(self.state, (asking["inputId"], line))

        with Live(get_renderable=view, console=self._console, refresh_per_second=10):
            while (prompt := await self._next_open_prompt(pumping, True)) is not None:
                self._asking = prompt
                try:
                    await self._ask(keyboard, prompt, echo=False)
                finally:
                    self._asking = None

    async def _answer_in_turns(
        self, keyboard: Keyboard | None, pumping: asyncio.Task[None]
    ) -> None:
        """Not a terminal (or not answering): the view until a prompt, the prompt as lines."""
        while True:
            # A fresh Live each time: a restarted one would redraw over the prompt.
            with Live(
                get_renderable=lambda: render(self.state),
                console=self._console,
                refresh_per_second=4,
            ):
                prompt = await self._next_open_prompt(pumping, keyboard is not None)
            if prompt is None or keyboard is None:
                return
            await self._ask(keyboard, prompt, echo=True)

    async def _next_open_prompt(
        self, pumping: asyncio.Task[None], answering: bool
    ) -> dict[str, Any] | None:
        """The next prompt still open, or None once the execution has ended."""
        while not (pumping.done() and self._prompts.empty()):
            getting = asyncio.ensure_future(self._prompts.get())
            await asyncio.wait({pumping, getting}, return_when=asyncio.FIRST_COMPLETED)
            if not getting.done():
                getting.cancel()
                continue
            prompt = getting.result()
            if answering and self._open(prompt):
                return prompt
        return None

    async def _pump(self) -> None:
        async for envelope in self._client.envelopes(self._execution_id, after=0):
            self.state.apply(envelope)
            self._changed.set()
            if envelope["type"] == "user_input:required":
                self._prompts.put_nowait(envelope["data"])

    def _open(self, prompt: dict[str, Any]) -> bool:
        return prompt["inputId"] in self.state.prompts

    async def _ask(self, keyboard: Keyboard, prompt: dict[str, Any], *, echo: bool) -> None:
        """Read answers until the gateway accepts one, the prompt is settled elsewhere, or the
        keyboard is closed. `echo`: print the question (the live view draws it otherwise)."""
        console = self._console
        while True:
            if echo:
                console.print(f"[magenta]{escape(question(prompt))}[/] ", end="")
            text = await self._line_while_open(keyboard, prompt)
            if text is None:
                return
            try:
                value = parse_answer(prompt, text)
            except AnswerError as exc:
                console.print(f"[red]{escape(str(exc))}[/]")
                continue
            try:
                await self._client.provide_input(self._execution_id, prompt["inputId"], value)
                return
            except ClientError as exc:
                code, message, details = exc.code, exc.message, exc.details
            console.print(f"[red]refused ({code}): {escape(message)}[/]")
            if isinstance(details, dict):
                problems: Any = details.get("errors") or []
                for problem in problems:
                    where = problem.get("path") or "/"
                    console.print(f"  {where}: {problem.get('message')}", markup=False)
            elif details is not None:
                console.print(f"  {json.dumps(details)}", markup=False)
            if code in _SETTLED:
                return

    async def _line_while_open(self, keyboard: Keyboard, prompt: dict[str, Any]) -> str | None:
        """A typed line, or None when the prompt closed meanwhile or stdin ended."""
        reading = asyncio.ensure_future(keyboard.line())
        try:
            while True:
                self._changed.clear()
                if not self._open(prompt):
                    self._console.print(
                        "\nclosed meanwhile (answered elsewhere, or timed out)", style="yellow"
                    )
                    return None
                changed = asyncio.ensure_future(self._changed.wait())
                await asyncio.wait({reading, changed}, return_when=asyncio.FIRST_COMPLETED)
                changed.cancel()
                if reading.done():
                    line = reading.result()
                    if line is None:
                        self._console.print("\nno answer from the terminal; the prompt stays open")
                    return line
        finally:
            reading.cancel()


class _NoKeyboard:
    """Stands in for the keyboard when prompts are not answered here."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
