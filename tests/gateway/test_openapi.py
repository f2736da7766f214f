"""The OpenAPI document gives every JSON route of the HTTP API its success schema (the TS
SDK's HTTP client is typed from the same models: gateway/api_models.py)."""

from __future__ import annotations

from typing import Any, cast

from flowmaestro.gateway import GatewayConfig, create_app
from tests.gateway.harness import SECRET


def test_every_api_route_documents_its_success_body() -> None:
    # The document is built from the routes alone: no database or Temporal is reached.
    spec = create_app(
        GatewayConfig(jwt_secret=SECRET), cast(Any, None), cast(Any, None)
    ).http.openapi()
    schemas = spec["components"]["schemas"]
    checked = []
    for path, operations in spec["paths"].items():
        if not path.startswith("/api/") or path.endswith("stream"):
            continue  # the streams are text/event-stream (docs/protocol.md)
        for method, operation in operations.items():
            success = [r for code, r in operation["responses"].items() if code.startswith("2")]
            assert len(success) == 1, (method, path)
            ref = success[0]["content"]["application/json"]["schema"]["$ref"]
            name = ref.rsplit("/", 1)[-1]
            assert schemas[name]["properties"], (method, path, name)
            checked.append((method, path, name))
    assert ("post", "/api/executions/{execution_id}/cancel", "CancelResult") in checked
    assert ("get", "/api/executions", "ExecutionList") in checked
    assert len(checked) == 10
