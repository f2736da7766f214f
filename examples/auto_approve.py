"""Auto-approve: answer every yes/no prompt of a user's executions, approving those whose
execution input (default `amount`) is under a threshold and rejecting the rest.

    FLOWMAESTRO_TOKEN=$(flowmaestro token --user u1) \
        python examples/auto_approve.py --url http://127.0.0.1:8000 --threshold 300

It follows the user's channel live with `flowmaestro.client`, which resumes by position after
a dropped connection, so no prompt is missed or answered twice. It prints one line per
decision and runs until interrupted (or `--count` decisions).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

import httpx
import jwt

from flowmaestro.client import Client, ClientError
from flowmaestro.events import UserInputRequired


def user_of(token: str) -> str:
    """The token's subject (the gateway verifies the token; this only reads who it names)."""
    sub = jwt.decode(token, options={"verify_signature": False}).get("sub")
    if not isinstance(sub, str):
        raise SystemExit("the token has no subject")
    return sub


async def decide(http: httpx.AsyncClient, execution_id: str, field: str, threshold: float) -> bool:
    """True when the execution's input `field` is a number under `threshold`."""
    answer = await http.get(f"/api/executions/{execution_id}")
    answer.raise_for_status()
    value = answer.json()["inputs"].get(field)
    return isinstance(value, int | float) and value < threshold


async def main(url: str, token: str, field: str, threshold: float, count: int | None) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        Client(url, token, on_status=lambda s: print(s, file=sys.stderr, flush=True)) as client,
        httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http,
    ):
        user = user_of(token)
        decided = 0

        def ready(position: int) -> None:
            print(f"watching the prompts of {user} from position {position}", flush=True)

        async for event in client.events(f"user:{user}", on_subscribed=ready):
            if not isinstance(event, UserInputRequired) or event.data.input_type != "boolean":
                continue
            assert event.execution_id is not None  # prompts belong to an execution
            approve = await decide(http, event.execution_id, field, threshold)
            try:
                await client.provide_input(event.execution_id, event.data.input_id, approve)
            except ClientError as exc:
                if exc.code not in ("already_answered", "expired"):
                    raise
                print(f"skipped {event.execution_id}: {exc.message}", flush=True)
                continue
            verdict = "approved" if approve else "rejected"
            print(f"{verdict} {event.execution_id} ({event.data.prompt})", flush=True)
            decided += 1
            if count is not None and decided >= count:
                return


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the gateway")
    parser.add_argument("--threshold", type=float, required=True)
    parser.add_argument("--field", default="amount", help="the execution input compared")
    parser.add_argument("--count", type=int, help="stop after this many decisions")
    parser.add_argument("--token", default=os.environ.get("FLOWMAESTRO_TOKEN"))
    args = parser.parse_args()
    if not args.token:
        parser.error("pass --token or set FLOWMAESTRO_TOKEN (`flowmaestro token --user U`)")
    asyncio.run(main(args.url, args.token, args.field, args.threshold, args.count))
