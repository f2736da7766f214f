"""Channel (Socket.IO room) names and the routing rule of docs/protocol.md."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from flowmaestro.events.catalogue.user_input import Assignees
    from flowmaestro.events.model import Envelope


def user_channel(user_id: str) -> str:
    return f"user:{user_id}"


def execution_channel(execution_id: str) -> str:
    return f"execution:{execution_id}"


def agent_channel(agent_id: str, execution_id: str) -> str:
    return f"agent:{agent_id}:{execution_id}"


def kb_channel(knowledge_base_id: str) -> str:
    return f"kb:{knowledge_base_id}"


def channels_for(event: Envelope) -> tuple[str, ...]:
    """Every channel that may see `event`: its owner's user channel, then the narrower ones."""
    channels = [user_channel(event.user_id)]
    if event.execution_id is not None:
        channels.append(execution_channel(event.execution_id))
        if event.agent_id is not None:
            channels.append(agent_channel(event.agent_id, event.execution_id))
    if event.knowledge_base_id is not None:
        channels.append(kb_channel(event.knowledge_base_id))
    return tuple(channels)


def inbox_channels(workspace: str, assignees: Assignees) -> tuple[str, ...]:
    """Where a shared execution's prompt reaches its assignees live (docs/teams.md, Inbox):
    one channel per assigned user and group of the workspace. Nobody subscribes to these: a
    socket joins its own with its user channel (`inbox_of`)."""
    return (
        *(f"inbox:{workspace}:user:{user}" for user in assignees.users),
        *(f"inbox:{workspace}:group:{group}" for group in assignees.groups),
    )


def inbox_of(workspace: str | None, user_id: str, groups: Iterable[str]) -> tuple[str, ...]:
    """The inbox channels of a user of `workspace` in `groups` (none in a personal
    workspace: nobody else's execution is visible there). A workspace has no ':', so no
    other workspace's channel has the same name."""
    if workspace is None:
        return ()
    return (
        f"inbox:{workspace}:user:{user_id}",
        *(f"inbox:{workspace}:group:{group}" for group in sorted(groups)),
    )
