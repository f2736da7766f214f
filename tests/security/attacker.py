"""A flooding client in its own process, so that it can be paused (SIGSTOP) and its CPU is
not the test process's. Each floods at a fixed rate several times
its budget: flat out, a Python client would only measure this machine's two cores.

    python -m tests.security.attacker presence URL EXECUTION_ID SOCKETS
    python -m tests.security.attacker reads URL EXECUTION_ID CLIENTS

It floods as mallory until stopped, printing `refused CODE LIMIT` the first time each code
comes back (and `flooding` once it has started)."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, Any

import httpx

from tests.gateway.harness import token
from tests.security.stack import call, open_socket

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

USER = "mallory"
_seen: set[str] = set()


def refused(error: dict[str, Any]) -> None:
    if error["code"] not in _seen:
        _seen.add(error["code"])
        print("refused", error["code"], (error.get("details") or {}).get("limit"), flush=True)


async def presence(url: str, execution_id: str, count: int) -> None:
    """`count` sockets cycling subscribe/unsubscribe on a channel with presence, each about
    ten times a second."""
    sockets = []
    for _ in range(count):
        ws, answer = await open_socket(url, USER)
        assert answer.startswith("40{"), answer
        sockets.append(ws)
    print("flooding", flush=True)
    await asyncio.gather(*(_cycle(ws, f"execution:{execution_id}") for ws in sockets))


async def _cycle(ws: ClientConnection, channel: str) -> None:
    ack_id = 0
    while True:
        ack_id += 2
        joined = await call(ws, ack_id, "subscribe", {"channel": channel})
        if not joined["ok"]:
            refused(joined["error"])
        await call(ws, ack_id + 1, "unsubscribe", {"channel": channel})
        await asyncio.sleep(0.1)


async def reads(url: str, execution_id: str, count: int) -> None:
    """`count` clients reading an execution's snapshot, each 10 times a second (far past the
    budget; a client looping flat out would only measure this machine's two cores, shared
    with the bystander's whole stack)."""
    headers = {"Authorization": f"Bearer {token(USER)}"}
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=headers) as http:
        print("flooding", flush=True)

        async def read() -> None:
            while True:
                answer = await http.get(f"/api/executions/{execution_id}")
                if answer.status_code != 200:
                    refused(answer.json()["error"])
                await asyncio.sleep(0.1)

        await asyncio.gather(*(read() for _ in range(count)))


def main() -> None:
    kind, url, execution_id, count = sys.argv[1:]
    flood = {"presence": presence, "reads": reads}[kind]
    asyncio.run(flood(url, execution_id, int(count)))


if __name__ == "__main__":
    main()
