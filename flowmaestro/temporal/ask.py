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

from datetime import timedelta
from typing import Final

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from pydantic import JsonValue, ValidationError

    from flowmaestro.activities.emit import EventSpec
    from flowmaestro.events import event_id
    from flowmaestro.events.catalogue.node import NodeCompletedData, NodeStartedData
    from flowmaestro.events.catalogue.user_input import Assignees, InputType
    from flowmaestro.flows.nodes.user_input import UserInputConfig
    from flowmaestro.temporal.errors import AskTimeoutError, PluginError
    from flowmaestro.temporal.run import current_run
    from flowmaestro.workflows.prompts import reject

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
    assignees: Assignees | dict[str, list[str]] | None = None,
    exclude_requester: bool = False,
) -> JsonValue:
    """Emit `user_input:required` and wait for its answer; return the validated value.

    `input_type` (text, number, boolean, choice, json) gives the answer's JSON Schema, which
    `schema` extends; `choice` needs `choices`. Raises AskTimeoutError (non-retryable) after
    `timeout`. Several prompts may be open at once. `node_id` names the prompt's node
    (default `ask-1`, `ask-2`... in call order). `assignees` (`{"users": [...], "groups":
    [...]}`) say who may answer instead of the run's owner, `exclude_requester` that the
    owner may not (docs/teams.md)."""
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
                "assignees": assignees,
                "exclude_requester": exclude_requester,
            }
        )
    except ValidationError as exc:
        # The workflow's own mistake: fail it with the reason, not its task over and over.
        raise reject("invalid_prompt", f"ask(): {exc.errors(include_url=False)[0]['msg']}") from exc
    run.asked += 1
    n = run.asked
    node = node_id or f"ask-{n}"
    info = workflow.info()
    key = (info.run_id, "ask", n)
    input_id = "in_" + event_id(info.workflow_id, "input", info.run_id, n).hex
    asked = workflow.now()
    opened = run.prompts.ask(input_id, node, prompt, config, asked)
    started = NodeStartedData(
        node_id=node, node_type=NODE_TYPE, attempt=1, inputs={"prompt": prompt}
    )
    await run.emit(EventSpec.of((*key, 1), started), EventSpec.of(key, opened.required()))
    if await run.prompts.answer(opened):
        completed = NodeCompletedData(
            node_id=node,
            node_type=NODE_TYPE,
            outputs=opened.value,
            duration_ms=int((workflow.now() - asked).total_seconds() * 1000),
        )
        await run.emit(EventSpec.of(key, opened.received()), EventSpec.of(key, completed))
        return opened.value
    await run.emit(
        EventSpec.of(key, opened.timed_out("fail")),
        EventSpec.of((*key, 1), opened.node_failed(NODE_TYPE)),
    )
    assert seconds is not None
    raise AskTimeoutError(input_id, seconds)
