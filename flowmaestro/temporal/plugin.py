"""`FlowMaestroPlugin`: any Temporal client's or worker's workflows become live executions.

Given to `Client.connect(..., plugins=[FlowMaestroPlugin()])` it reaches every worker built
on that client; given to `Worker(..., plugins=[...])`, that worker alone. It adds:
- the interceptors: workflow runs started with `FlowMaestroUser` are executions
  (workflow_events.py), their activities' attempts are nodes (activity_events.py);
- its local activities, which write the workflows' events (emissions.py);
- the pydantic payload converter its messages need, in place of the default converter only:
  a converter the application set is kept, and its codec and failure converter always are;
- the sandbox passthrough of `flowmaestro` (and the libraries it validates with), so a
  workflow may import `flowmaestro.temporal` at the top of its module;
- the Temporal TLS, API key and namespace of `FLOWMAESTRO_TEMPORAL_*`, for a client the
  application connects without its own;
- the Postgres pool, open while a worker built with it runs (a replayer needs none).
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import TYPE_CHECKING

import temporalio.client
import temporalio.worker
from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import DataConverter, DefaultPayloadConverter
from temporalio.plugin import SimplePlugin
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from flowmaestro.settings import Settings
from flowmaestro.temporal.activity_events import ActivityEvents
from flowmaestro.temporal.emissions import plugin_activities
from flowmaestro.temporal.resources import Resources
from flowmaestro.temporal.workflow_events import WorkflowEvents
from flowmaestro.temporal_connection import temporal_api_key, temporal_tls

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable
    from contextlib import AbstractAsyncContextManager

    from temporalio.client import WorkflowHistory
    from temporalio.service import ConnectConfig, ServiceClient
    from temporalio.worker import Replayer, WorkerConfig, WorkflowReplayResult, WorkflowRunner

    from flowmaestro.security import Limits

NAME = "flowmaestro.FlowMaestroPlugin"

# Imported by workflow code through flowmaestro.temporal, loaded once outside the sandbox
# (they import lazily and lock internally: reloading them per run is slow and fragile).
_PASSTHROUGH = (
    "flowmaestro",
    "pydantic",
    "pydantic_core",
    "jinja2",
    "markupsafe",
    "jsonschema",
    "jsonschema_specifications",
    "referencing",
    "rpds",
    "asyncpg",
    "httpx",
)


class _Interceptor(temporalio.worker.Interceptor):
    def __init__(self, resources: Resources, limits: Limits) -> None:
        self._resources = resources
        self._limits = limits
        self._workflow = WorkflowEvents.bound(limits)

    def intercept_activity(
        self, next: temporalio.worker.ActivityInboundInterceptor
    ) -> temporalio.worker.ActivityInboundInterceptor:
        return ActivityEvents(next, self._resources.emitter, self._limits)

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[WorkflowEvents]:
        return self._workflow


def _data_converter(existing: DataConverter | None) -> DataConverter:
    """The pydantic payload converter in place of the default one, keeping the rest."""
    converter = existing or DataConverter.default
    if converter.payload_converter_class is DefaultPayloadConverter:
        return dataclasses.replace(converter, payload_converter_class=PydanticPayloadConverter)
    return converter


def _workflow_runner(existing: WorkflowRunner | None) -> WorkflowRunner:
    runner = existing or SandboxedWorkflowRunner()
    if isinstance(runner, SandboxedWorkflowRunner):
        return dataclasses.replace(
            runner, restrictions=runner.restrictions.with_passthrough_modules(*_PASSTHROUGH)
        )
    return runner


class FlowMaestroPlugin(SimplePlugin):
    """The public plugin; `settings` default to `Settings()` (the `FLOWMAESTRO_*` variables)."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self._resources = Resources(self.settings)
        super().__init__(
            NAME,
            data_converter=_data_converter,
            interceptors=[_Interceptor(self._resources, self.settings.limits)],
            activities=plugin_activities(self._resources),
            workflow_runner=_workflow_runner,
            run_context=self._resources.running,
        )

    def configure_client(
        self, config: temporalio.client.ClientConfig
    ) -> temporalio.client.ClientConfig:
        config = super().configure_client(config)
        configured = self.settings.temporal_namespace
        if config["namespace"] == "default" and configured != "default":
            config["namespace"] = configured
        return config

    async def connect_service_client(
        self,
        config: ConnectConfig,
        next: Callable[[ConnectConfig], Awaitable[ServiceClient]],
    ) -> ServiceClient:
        # The application's own TLS or key wins; the settings fill what it left unset.
        if config.tls is None or config.tls is False:
            tls = temporal_tls(self.settings)
            if tls is not False:
                config = dataclasses.replace(config, tls=tls)
        if config.api_key is None:
            config = dataclasses.replace(config, api_key=temporal_api_key(self.settings))
        return await next(config)

    @contextlib.asynccontextmanager
    async def run_replayer(
        self,
        replayer: Replayer,
        histories: AsyncIterator[WorkflowHistory],
        next: Callable[
            [Replayer, AsyncIterator[WorkflowHistory]],
            AbstractAsyncContextManager[AsyncIterator[WorkflowReplayResult]],
        ],
    ) -> AsyncIterator[AsyncIterator[WorkflowReplayResult]]:
        # A replay runs no activity (their results are in the history): no pool, no database.
        async with next(replayer, histories) as results:
            yield results

    def configure_worker(self, config: WorkerConfig) -> WorkerConfig:
        config = super().configure_worker(config)
        client = config.get("client")
        if client is not None:
            # Given to a worker alone: its client's converter may be the default one.
            active = client.config(active_config=True)
            converter = _data_converter(active["data_converter"])
            if converter is not active["data_converter"]:
                active["data_converter"] = converter
                active["plugins"] = []  # already applied to `active`
                config["client"] = temporalio.client.Client(**active)
        return config
