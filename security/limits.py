"""Every bound on what an untrusted flow, document or client may cost, in one object.

It is a field of `flowmaestro.settings.Settings` (environment `FLOWMAESTRO_LIMITS__<NAME>`,
e.g. `FLOWMAESTRO_LIMITS__MAX_NODES=500`) and is passed down to whatever enforces a bound.
Every field is documented in docs/security.md.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Limits(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_nodes: int = Field(default=500, gt=0, description="nodes in one flow")
    max_flow_bytes: int = Field(
        default=1 << 20, gt=0, description="a flow document's size (JSON or YAML)"
    )
    max_document_bytes: int = Field(
        default=20 << 20, gt=0, description="one knowledge-base document, enforced while reading"
    )
