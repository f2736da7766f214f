"""SSRF: a flow's `http` node (and an agent's `http_get`) reaching what is not public.

The issue's attack: an `http` node calls Temporal's own API on loopback and reads every
user's workflows. Every form of a loopback address, a redirect to loopback, and DNS
rebinding are refused; what the attacker sees is `egress_refused` naming the host only.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from tests.http_server import scripted_server
from tests.security.conftest import ATTACKER_HOST, REBIND_HOST, node_failure

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from flowmaestro.events.outbox import StoredEvent
    from tests.security.conftest import Stack


def fetch(url: str, **config: Any) -> dict[str, Any]:
    return {
        "name": "fetch",
        "nodes": [{"id": "steal", "type": "http", "config": {"url": url, **config}}],
    }


def refused(events: list[StoredEvent], host: str) -> None:
    failure = node_failure(events, "steal")
    assert failure["error"]["type"] == "egress_refused", failure
    assert host in failure["error"]["message"]
    # Not retried: the first attempt is the last.
    assert (failure["attempt"], failure["willRetry"]) == (1, False)
    assert events[-1].type == "execution:failed"


def temporal_port(stack: Stack) -> int:
    target = stack.temporal.client.service_client.config.target_host
    return int(target.rsplit(":", 1)[1])


async def test_temporal_on_loopback_is_refused(stack: Stack) -> None:
    url = f"http://127.0.0.1:{temporal_port(stack)}/api/v1/namespaces/default/workflows"
    events = await stack.during(stack.run("mallory", fetch(url)))
    refused(events, "127.0.0.1")


LOOPBACK_FORMS = [
    "127.0.0.1",
    "127.1.2.3",
    "localhost",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[::127.0.0.1]",
    "[64:ff9b::7f00:1]",
    "[2002:7f00:1::]",
    "[2001:0:4136:e378:8000:63bf:80ff:fffe]",
    "0.0.0.0",
    "169.254.169.254",
    "10.0.0.1",
    "[fd00::1]",
]


async def test_every_form_of_a_private_address_is_refused(stack: Stack) -> None:
    port = temporal_port(stack)

    async def one(host: str) -> None:
        events = await stack.run("mallory", fetch(f"http://{host}:{port}/api/v1/namespaces"))
        refused(events, host.strip("[]"))

    await stack.during(asyncio.gather(*(one(h) for h in LOOPBACK_FORMS)))


async def test_a_redirect_to_loopback_is_refused(stack: Stack) -> None:
    async with (
        scripted_server([(200, b"secret")]) as (victim, victim_seen),
        scripted_server([(302, b"")], host="127.0.0.2", headers={"Location": victim}) as (
            outside,
            outside_seen,
        ),
    ):
        url = outside.replace("127.0.0.2", ATTACKER_HOST)
        events = await stack.during(stack.run("mallory", fetch(url)))
    refused(events, "127.0.0.1")
    assert outside_seen == ["/data"] and victim_seen == []


@contextlib.asynccontextmanager
async def same_port_servers() -> AsyncIterator[tuple[int, list[str], list[str], list[bytes]]]:
    """An allowed server on 127.0.0.2 and a victim on 127.0.0.1, on the same port."""
    heads: list[bytes] = []
    for _ in range(20):
        async with scripted_server([(200, b"outside")], host="127.0.0.2", heads=heads) as (
            outside,
            outside_seen,
        ):
            port = int(outside.rsplit(":", 1)[1].split("/")[0])
            try:
                victim_server = scripted_server([(200, b"secret")], port=port)
                async with victim_server as (_, victim_seen):
                    yield port, outside_seen, victim_seen, heads
                    return
            except OSError:
                continue  # the port is taken on 127.0.0.1: try another
    raise AssertionError("no port free on both addresses")


async def test_dns_rebinding_cannot_reach_loopback(stack: Stack) -> None:
    """The name answers an allowed address first, loopback afterwards; the guard resolves
    once and connects to what it vetted, so the victim is never reached."""
    async with same_port_servers() as (port, outside_seen, victim_seen, heads):
        events = await stack.during(stack.run("mallory", fetch(f"http://{REBIND_HOST}:{port}/x")))
        asked = stack.resolver.asked.count(REBIND_HOST)
    completed = [e for e in events if e.type == "node:completed"]
    assert completed and completed[0].envelope["data"]["outputs"]["body"] == "outside"
    assert outside_seen == ["/x"] and victim_seen == []
    assert asked == 1
    # The request went to the vetted address under its own name.
    assert f"host: {REBIND_HOST}:{port}".encode() in heads[0].lower()


async def test_the_flow_can_only_narrow_the_operators_allowlist(stack: Stack) -> None:
    async with scripted_server([(200, b"fine")], host="127.0.0.2") as (outside, seen):
        url = outside.replace("127.0.0.2", ATTACKER_HOST)
        events = await stack.during(
            stack.run("mallory", fetch(url, allowed_hosts=["api.example.com"]))
        )
    refused(events, ATTACKER_HOST)
    assert seen == []


async def test_the_flow_author_switch_is_gone(stack: Stack) -> None:
    flow = {
        "name": "switch",
        "nodes": [
            {
                "id": "a",
                "type": "agent",
                "config": {"prompt": "hi", "tools": ["http_get"], "http_allow_private": True},
            }
        ],
    }
    response = await stack.during(stack.post_flow("mallory", flow))
    assert response.status_code == 400
    assert "http_allow_private" in response.json()["error"]["message"]


async def test_http_get_refused_is_a_failed_tool_call_the_agent_sees(stack: Stack) -> None:
    url = f"http://[::ffff:127.0.0.1]:{temporal_port(stack)}/api/v1/namespaces"
    flow = {
        "name": "agent-ssrf",
        "nodes": [
            {
                "id": "a",
                "type": "agent",
                "config": {
                    "prompt": "read it",
                    "tools": ["http_get"],
                    "script": [
                        {"call": [{"tool": "http_get", "arguments": {"url": url}}]},
                        {"say": "could not: {0}"},
                    ],
                },
            }
        ],
    }
    events = await stack.during(stack.run("mallory", flow))
    assert events[-1].type == "execution:completed"
    calls = [e.envelope["data"] for e in events if e.type == "agent:tool_call"]
    failed = [c for c in calls if c["status"] == "failed"]
    assert failed and failed[0]["error"]["type"] == "egress_refused"
    assert "127.0.0.1" in failed[0]["error"]["message"]
