"""Following an execution in a terminal: the view redrawn as events arrive, and its prompts
answered from the keyboard."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from rich.live import Live
from rich.markup import escape

from flowmaestro.watch.answer import AnswerError, parse_answer, question
from flowmaestro.watch.render import render
from flowmaestro.watch.state import ExecutionState

if TYPE_CHECKING:
    from rich.console import Console

    from flowmaestro.watch.follower import Follower

# The gateway's answers after which asking again is pointless.
_SETTLED = {"already_answered", "expired", "not_found"}


async def follow_in_terminal(follower: Follower, console: Console, interactive: bool) -> str:
    """Show the execution until it ends; its final status."""
    state = ExecutionState(follower.execution_id)
    with Live(render(state), console=console, refresh_per_second=4) as live:
        async for envelope in follower.events():
            state.apply(envelope)
            live.update(render(state))
            data = envelope.get("data") or {}
            if interactive and envelope["type"] == "user_input:required":
                live.stop()
                await ask(follower, console, data)
                live.start()
    return state.status


async def ask(follower: Follower, console: Console, prompt: dict[str, Any]) -> None:
    """Read answers until the gateway accepts one, or says the prompt is settled."""
    while True:
        try:
            text = await asyncio.to_thread(
                console.input, f"[magenta]{escape(question(prompt))}[/] "
            )
        except EOFError:
            console.print("no answer from the terminal; the prompt stays open")
            return
        try:
            value = parse_answer(prompt, text)
        except AnswerError as exc:
            console.print(f"[red]{escape(str(exc))}[/]")
            continue
        ack = await follower.provide(prompt["inputId"], value)
        if ack.get("ok"):
            return
        error = ack.get("error") or {}
        console.print(f"[red]refused ({error.get('code')}): {escape(str(error.get('message')))}[/]")
        details = error.get("details")
        if isinstance(details, dict):
            for problem in details.get("errors") or []:
                console.print(
                    f"  {problem.get('path') or '/'}: {problem.get('message')}", markup=False
                )
        elif details is not None:
            console.print(f"  {json.dumps(details)}", markup=False)
        if error.get("code") in _SETTLED:
            return
