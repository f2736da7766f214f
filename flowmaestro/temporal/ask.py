"""`ask()`: a workflow asks a person and waits for the answer.

The prompt is answered exactly as an `ExecutionWorkflow` prompt is: through the
`provide_input` Update (validated before it enters history, refused with the same codes) and
listed by the `pending_inputs` Query (workflows/prompts.py does both for either), so the
Socket.IO `user_input:provide`, the HTTP API, the UI, the Python client and
`temporal workflow update` all answer it. Each prompt is a node of the execution
(`user_input:required`, then `user_input:received` or `user_input:timeout`), written by the
plugin's local activity; in an untracked run nothing is written and the prompt still works.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from pydantic import JsonValue, ValidationError

    from flowmaestro.activities.emit import EventSpec
    from flowmaestro.activities.nodes.user_input import InputType, UserInputConfig
    from flowmaestro.events import event_id
    from flowmaestro.temporal.errors import AskTimeoutError, PluginError
    from flowmaestro.temporal.run import current_run
    from flowmaestro.workflows.prompts import Prompt, reject

NODE_TYPE: Final = "ask"
"""The node type of a prompt's node."""


async def ask(
    prompt: str,
    *,
    input_type: InputType = "text",
    schema: dict[str, JsonValue] | None = None,
    choices: list[JsonValue] | None = None,
    timeout: float | timedelta | None = None,
    node_id: str | None = None,
) -> JsonValue:
    """Emit `user_input:required` and wait for its answer; return the validated value.

    `input_type` (text, number, boolean, choice, json) gives the answer's JSON Schema, which
    `schema` extends; `choice` needs `choices`. Raises AskTimeoutError (non-retryable) after
    `timeout`. Several prompts may be open at once. `node_id` names the prompt's node
    (default `ask-1`, `ask-2`... in call order)."""
    run = current_run()
    if run is None:
        raise PluginError("ask() runs in a workflow on a worker with FlowMaestroPlugin")
    seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else timeout
    try:
        config = UserInputConfig.model_validate(
            {
                "prompt": prompt,
                "input_type": input_type,
                "schema": schema,
                "choices": choices,
                "timeout_seconds": seconds,
            }
        )
    except ValidationError as exc:
        # The workflow's own mistake: fail it with the reason, not its task over and over.
        raise reject("invalid_prompt", f"ask(): {exc.errors(include_url=False)[0]['msg']}") from exc
    run.asked += 1
    n = run.asked
    node = node_id or f"ask-{n}"
    info = workflow.info()
    key: list[str | int] = [info.run_id, "ask", n]
    input_id = "in_" + event_id(info.workflow_id, "input", info.run_id, n).hex
    asked = workflow.now()
    opened = run.prompts.ask(input_id, node, prompt, config, asked)
    await run.emit(_node_started(node, n, key, opened), _required(opened, key))
    if await run.prompts.answer(opened):
        done = {"inputId": input_id, "nodeId": node}
        await run.emit(
            EventSpec(type="user_input:received", key=key, data=done),
            _node_completed(node, opened, key, asked),
        )
        return opened.value
    assert seconds is not None
    await run.emit(
        EventSpec(
            type="user_input:timeout",
            key=key,
            data={
                "inputId": input_id,
                "nodeId": node,
                "timeoutSeconds": seconds,
                "onTimeout": "fail",
            },
        ),
        _node_failed(node, key, seconds),
    )
    raise AskTimeoutError(input_id, seconds)


def _required(prompt: Prompt, key: list[str | int]) -> EventSpec:
    p = prompt.pending
    return EventSpec(
        type="user_input:required",
        key=key,
        data={
            "inputId": p.input_id,
            "nodeId": p.node_id,
            "prompt": p.prompt,
            "inputType": p.input_type,
            "schema": p.answer_schema,
            "choices": p.choices,
            "timeoutSeconds": p.timeout_seconds,
            "expiresAt": p.expires_at.isoformat() if p.expires_at else None,
        },
    )


def _node_started(node: str, n: int, key: list[str | int], prompt: Prompt) -> EventSpec:
    return EventSpec(
        type="node:started",
        key=[*key, 1],
        data={
            "nodeId": node,
            "nodeType": NODE_TYPE,
            "attempt": 1,
            "inputs": {"prompt": prompt.pending.prompt, "ask": n},
        },
    )


def _node_completed(node: str, prompt: Prompt, key: list[str | int], asked: datetime) -> EventSpec:
    since = workflow.now() - asked
    return EventSpec(
        type="node:completed",
        key=key,
        data={
            "nodeId": node,
            "nodeType": NODE_TYPE,
            "outputs": prompt.value,
            "durationMs": int(since.total_seconds() * 1000),
        },
    )


def _node_failed(node: str, key: list[str | int], seconds: float) -> EventSpec:
    return EventSpec(
        type="node:failed",
        key=[*key, 1],
        data={
            "nodeId": node,
            "nodeType": NODE_TYPE,
            "error": {"message": f"no answer within {seconds:g}s", "type": "input_timeout"},
            "attempt": 1,
            "maxAttempts": 1,
            "willRetry": False,
            "nextRetryInMs": None,
        },
    )
