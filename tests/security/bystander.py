"""Carol, an honest user beside an attack, in a process of her own: neither the attacker's
clients nor anything else in the test process can slow her clients, so what slows her flow
is what the attack does to the stack.

    python -m tests.security.bystander URL

She connects a socket watching her user channel, then answers each command read on stdin
with one line, `carol {json}`, on stdout:
- `flow`: her trivial flow, timed from its start to its `execution:completed` on her socket:
  `{"took": seconds, "posted": seconds to the start's answer}`;
- `health`: `{"took": seconds for /healthz, "status": code, "disconnects": [...]}`.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import httpx

from tests.gateway.harness import Recorder, token

USER = "carol"
ANSWER = "bystander-answer "
TRIVIAL_FLOW = {
    "name": "trivial",
    "nodes": [{"id": "t", "type": "transform", "config": {"output": {"ok": True}}}],
}


async def flow(http: httpx.AsyncClient, socket: Recorder, headers: dict[str, str]) -> Any:
    began = time.perf_counter()
    started = await http.post("/api/executions", json={"flow": TRIVIAL_FLOW}, headers=headers)
    posted = time.perf_counter() - began
    if started.status_code != 201:
        return {"error": f"{started.status_code} {started.text}"}
    execution_id = started.json()["executionId"]
    await socket.wait_until(
        lambda r: any(
            e["executionId"] == execution_id and e["type"] == "execution:completed"
            for e in r.events
        )
    )
    return {"took": time.perf_counter() - began, "posted": posted}


async def health(http: httpx.AsyncClient, socket: Recorder) -> Any:
    began = time.perf_counter()
    answer = await http.get("/healthz")
    took = time.perf_counter() - began
    return {"took": took, "status": answer.status_code, "disconnects": socket.disconnects}


async def main(url: str) -> None:
    # An hour's token: valid still on a gateway clock a test has moved on by minutes.
    headers = {"Authorization": f"Bearer {token(USER, 3600)}"}
    socket = Recorder()
    await socket.connect(url, USER)
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        print(ANSWER + json.dumps({"ready": True}), flush=True)
        while command := (await asyncio.to_thread(sys.stdin.readline)).strip():
            if command == "flow":
                answer = await flow(http, socket, headers)
            elif command == "health":
                answer = await health(http, socket)
            else:
                answer = {"error": f"unknown command {command!r}"}
            print(ANSWER + json.dumps(answer), flush=True)
    await socket.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
