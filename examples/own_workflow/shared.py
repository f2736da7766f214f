"""What the workflow, its activities and its starter share."""

from __future__ import annotations

from pydantic import BaseModel

TASK_QUEUE = "orders"


class Order(BaseModel):
    order_id: str
    items: list[str]
    total: float


class PaymentCaptured(BaseModel):
    """The data of the custom event `app:payment.captured`."""

    order_id: str
    amount: float
    attempts: int
