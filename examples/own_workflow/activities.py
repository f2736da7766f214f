"""Three activities: one reports progress, one streams an agent's answer, one fails once and
is retried (and reports a custom event when it succeeds)."""

from __future__ import annotations

import asyncio

from shared import Order, PaymentCaptured
from temporalio import activity

from flowmaestro.temporal import agent_stream, emit_event, progress, register_event

register_event("payment.captured", PaymentCaptured)


@activity.defn
async def reserve_stock(order: Order) -> int:
    for done, item in enumerate(order.items, start=1):
        await asyncio.sleep(0.2)  # the warehouse's latency
        await progress(100 * done / len(order.items), f"reserved {item}")
    return len(order.items)


@activity.defn
async def write_summary(order: Order) -> str:
    async with agent_stream("summary", model="offline") as stream:
        await stream.tool_call("price_lookup", {"items": order.items})
        await stream.tool_call("price_lookup", {}, status="completed", result=order.total)
        for (
            word
        ) in f"Order {order.order_id}: {', '.join(order.items)}, total ${order.total:.2f}.".split(
            " "
        ):
            await asyncio.sleep(0.05)  # tokens as a model streams them
            await stream.token(word + " ")
    return stream.response.strip()


@activity.defn
async def charge_payment(order: Order) -> str:
    attempt = activity.info().attempt
    if attempt == 1:
        raise ConnectionError("the payment provider timed out")
    await emit_event(
        "payment.captured",
        PaymentCaptured(order_id=order.order_id, amount=order.total, attempts=attempt),
    )
    return f"charged ${order.total:.2f}"
