"""`user_input`: announce a prompt; the workflow waits for the answer (an Update).

The answer's JSON Schema, the type, the choices and the timeout must be literal in the flow
file: the workflow validates answers against them before this node's activity has run.
"""

from __future__ import annotations

from flowmaestro.activities.nodes.base import NodeContext, NodeExecutor, NodeResult
from flowmaestro.events.catalogue.user_input import UserInputRequiredData
from flowmaestro.events.envelopes import data_json
from flowmaestro.flows.nodes.user_input import UserInput, UserInputConfig, answer_schema


class UserInputExecutor(UserInput, NodeExecutor[UserInputConfig]):
    async def execute(self, config: UserInputConfig, ctx: NodeContext) -> NodeResult:
        request = ctx.input_request
        if request is None:
            raise ValueError("a user_input node runs with an input request")
        required = UserInputRequiredData(
            input_id=request.input_id,
            node_id=ctx.node_id,
            prompt=config.prompt,
            input_type=config.input_type,
            answer_schema=answer_schema(config),
            choices=config.choices,
            timeout_seconds=config.timeout_seconds,
            expires_at=request.expires_at,
            assignees=config.assignees,
            exclude_requester=config.exclude_requester,
        )
        await ctx.emit(ctx.event((), required))
        return NodeResult({**data_json(required), "default": config.default})
