"""Who may answer a prompt (docs/teams.md, Assignees): one rule, applied by the gateway
before it sends an answer and again by the `provide_input` Update's validator.

Without assignees the execution's owner (the requester) answers, as before teams. With
them, a named user or a member of a named group of the execution's workspace does; with
`exclude_requester` never the owner. An answer that does not say who gives it comes from a
Temporal client, which is trusted: it may answer only a prompt without assignees.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flowmaestro.events.catalogue.user_input import Assignees
    from flowmaestro.flows.messages import Answerer


def refusal(
    answerer: Answerer | None,
    *,
    assignees: Assignees | None,
    exclude_requester: bool,
    requester: str,
    workspace: str | None,
) -> str | None:
    """Why `answerer` may not answer the prompt; None when they may."""
    if answerer is None:
        if assignees is not None:
            return "this prompt is assigned: the answer must say who gives it"
        return None
    if answerer.workspace != workspace:
        return "the answerer is not in the execution's workspace"
    if exclude_requester and answerer.user_id == requester:
        return "the requester may not answer this prompt"
    if assignees is None:
        if answerer.user_id == requester:
            return None
        return "only the execution's owner may answer this prompt"
    if answerer.user_id in assignees.users or not set(answerer.groups).isdisjoint(assignees.groups):
        return None
    return "the answerer is not an assignee of this prompt"
