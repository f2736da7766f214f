"""What the plugin sets on a client: the pydantic payload converter in place of the default
one only (the application's codec kept, its own converter untouched), TLS, key and namespace
from the settings where the application set none."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import DataConverter, PayloadCodec, PayloadConverter
from temporalio.service import ConnectConfig, ServiceClient, TLSConfig

from flowmaestro.settings import Settings
from flowmaestro.temporal import FlowMaestroPlugin

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from temporalio.api.common.v1 import Payload


class Codec(PayloadCodec):
    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)


class Custom(PydanticPayloadConverter):
    pass


async def test_the_default_converter_becomes_pydantic_keeping_the_codec() -> None:
    codec = Codec()
    plugin = FlowMaestroPlugin(Settings())
    client = await Client.connect(
        "127.0.0.1:1",
        lazy=True,
        data_converter=dataclasses.replace(DataConverter.default, payload_codec=codec),
        plugins=[plugin],
    )
    converter = client.data_converter
    assert converter.payload_converter_class is PydanticPayloadConverter
    assert converter.payload_codec is codec

    own = DataConverter(payload_converter_class=Custom)
    kept = await Client.connect("127.0.0.1:1", lazy=True, data_converter=own, plugins=[plugin])
    assert kept.data_converter is own
    assert issubclass(kept.data_converter.payload_converter_class, PayloadConverter)


async def test_tls_key_and_namespace_come_from_the_settings_when_unset(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_bytes(b"-----BEGIN CERTIFICATE-----\n")
    plugin = FlowMaestroPlugin(
        Settings(
            temporal_tls_ca=ca,
            temporal_tls_server_name="temporal.internal",
            temporal_api_key="k",
            temporal_namespace="orders",
        )
    )
    seen: list[ConnectConfig] = []

    async def connect(config: ConnectConfig) -> ServiceClient:
        seen.append(config)
        raise RuntimeError("not connecting")

    config = ConnectConfig(target_host="127.0.0.1:1")
    with pytest.raises(RuntimeError, match="not connecting"):
        await plugin.connect_service_client(config, connect)
    [used] = seen
    assert isinstance(used.tls, TLSConfig) and used.tls.domain == "temporal.internal"
    assert used.tls.server_root_ca_cert == ca.read_bytes()
    assert used.api_key == "k"
    client = await Client.connect("127.0.0.1:1", lazy=True, plugins=[plugin])
    assert client.namespace == "orders"
    named = await Client.connect("127.0.0.1:1", lazy=True, namespace="mine", plugins=[plugin])
    assert named.namespace == "mine"
