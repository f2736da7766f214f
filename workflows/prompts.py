"""The open prompts of one workflow run, behind the `provide_input` Update and the
`pending_inputs` Query (workflows/messages.py).

`ExecutionWorkflow`'s user_input nodes and `flowmaestro.temporal.ask()` share it, so an
answer is validated and refused the same way whichever asked: `not_found`, `forbidden` (not
an answerer the prompt accepts, flows/assignees.py), `already_answered`, `expired`,
`invalid_input` (with each schema error), all before anything enters history. Workflow
code: deterministic, no I/O.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import JsonValue

    from flowmaestro.activities.failure import Failure
    from flowmaestro.events.catalogue.node import NodeFailedData
    from flowmaestro.events.catalogue.user_input import (
        OnTimeout,
        UserInputReceivedData,
        UserInputRequiredData,
        UserInputTimeoutData,
    )
    from flowmaestro.flows.assignees import refusal
    from flowmaestro.flows.messages import (
        Answerer,
        PendingInput,
        ProvideInput,
        ProvideInputResult,
    )
    from flowmaestro.flows.nodes.user_input import (
        UserInputConfig,
        answer_errors,
        answer_schema,
    )


def reject(code: str, message: str, *details: Any) -> ApplicationError:
    """A refusal the gateway passes on as its wire code (REJECTION_CODES)."""
    return ApplicationError(message, *details, type=code, non_retryable=True)


AUDITS_ANSWERS = "audits-answers"
"""The workflow.patched id of `user_input:received` saying who answered, when and how:
histories recorded before it replay the event as it was (docs/temporal-clients.md)."""


@dataclasses.dataclass
class Prompt:
    pending: PendingInput
    answered: bool = False
    expired: bool = False
    value: JsonValue = None
    answerer: Answerer | None = None

    @property
    def open(self) -> bool:
        return not (self.answered or self.expired)

    def required(self) -> UserInputRequiredData:
        p = self.pending
        return UserInputRequiredData(
            input_id=p.input_id,
            node_id=p.node_id,
            prompt=p.prompt,
            input_type=p.input_type,
            answer_schema=p.answer_schema,
            choices=p.choices,
            timeout_seconds=p.timeout_seconds,
            expires_at=p.expires_at,
            assignees=p.assignees,
            exclude_requester=p.exclude_requester,
        )

    def received(self) -> UserInputReceivedData:
        """The answer's event; who answered, when and through what, unless replaying a
        history from before the audit."""
        p = self.pending
        if not workflow.patched(AUDITS_ANSWERS):
            return UserInputReceivedData(input_id=p.input_id, node_id=p.node_id)
        who = self.answerer
        return UserInputReceivedData(
            input_id=p.input_id,
            node_id=p.node_id,
            answered_by=who.user_id if who else None,
            answered_at=workflow.now(),
            client=who.client if who else "temporal",
            value=self.value,
        )

    def timed_out(self, on_timeout: OnTimeout) -> UserInputTimeoutData:
        assert self.pending.timeout_seconds is not None
        return UserInputTimeoutData(
            input_id=self.pending.input_id,
            node_id=self.pending.node_id,
            timeout_seconds=self.pending.timeout_seconds,
            on_timeout=on_timeout,
        )

    def failure(self) -> Failure:
        """Why the prompt's node fails when it times out with `on_timeout: fail`."""
        return Failure(
            f"no answer within {self.pending.timeout_seconds:g}s", "input_timeout", False
        )

    def node_failed(self, node_type: str) -> NodeFailedData:
        return self.failure().node_failed(
            self.pending.node_id, node_type, attempt=1, max_attempts=1, retry_in_ms=None
        )


class Prompts:
    def __init__(self) -> None:
        self._prompts: dict[str, Prompt] = {}
        self._requester = ""
        self._workspace: str | None = None

    def owned_by(self, requester: str, workspace: str | None) -> None:
        """The execution's owner (who asks) and workspace, once known; until then (and in
        an untracked run) only an assignee may answer."""
        self._requester = requester
        self._workspace = workspace

    def ask(
        self, input_id: str, node_id: str, text: str, config: UserInputConfig, asked: datetime
    ) -> Prompt:
        """Open a prompt; register it before it is announced, so an immediate answer finds
        it. `text` is the prompt as the announcement shows it."""
        expires_at = (
            asked + timedelta(seconds=config.timeout_seconds) if config.timeout_seconds else None
        )
        prompt = Prompt(
            PendingInput(
                input_id=input_id,
                node_id=node_id,
                prompt=text,
                input_type=config.input_type,
                answer_schema=answer_schema(config),
                choices=config.choices,
                timeout_seconds=config.timeout_seconds,
                expires_at=expires_at,
                assignees=config.assignees,
                exclude_requester=config.exclude_requester,
            )
        )
        self._prompts[input_id] = prompt
        return prompt

    async def answer(self, prompt: Prompt) -> bool:
        """Wait for the answer (True) or the prompt's timeout (False: it has expired)."""
        try:
            await workflow.wait_condition(
                lambda: prompt.answered, timeout=prompt.pending.timeout_seconds
            )
        except TimeoutError:
            prompt.expired = True
            return False
        return True

    def validate(self, answer: ProvideInput) -> None:
        """The Update's validator: refuse an answer before it enters history."""
        prompt = self._prompts.get(answer.input_id)
        if prompt is None:
            raise reject("not_found", f"no prompt {answer.input_id} in this execution")
        why = refusal(
            answer.answerer,
            assignees=prompt.pending.assignees,
            exclude_requester=prompt.pending.exclude_requester,
            requester=self._requester,
            workspace=self._workspace,
        )
        if why is not None:
            raise reject("forbidden", why)
        if prompt.answered:
            raise reject("already_answered", f"input {answer.input_id} was already answered")
        expires_at = prompt.pending.expires_at
        if prompt.expired or (expires_at is not None and workflow.now() >= expires_at):
            raise reject("expired", f"input {answer.input_id} expired")
        errors = answer_errors(prompt.pending.answer_schema, answer.value)
        if errors:
            raise reject(
                "invalid_input",
                f"the answer does not match the prompt's schema: {errors[0]['message']}",
                {"errors": errors},
            )

    def accept(self, answer: ProvideInput) -> ProvideInputResult:
        """The Update's handler, after its validator passed."""
        prompt = self._prompts[answer.input_id]
        if prompt.answered:
            # Two answers validated in the same workflow task: the first one wins.
            raise reject("already_answered", f"input {answer.input_id} was already answered")
        prompt.answered = True
        prompt.value = answer.value
        prompt.answerer = answer.answerer
        return ProvideInputResult(input_id=answer.input_id, node_id=prompt.pending.node_id)

    def pending(self) -> list[PendingInput]:
        """The Query: prompts waiting for an answer."""
        return [p.pending for p in self._prompts.values() if p.open]
