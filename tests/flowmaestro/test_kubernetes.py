"""deploy/kubernetes/ rendered by kubectl's kustomize and validated offline against the
Kubernetes schemas (kubernetes-validate), then checked for what an operator relies on:
every part present, secrets only from Secrets, probes and resources everywhere, settings
the gateway knows, commands the CLI has."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import click
import kubernetes_validate
import pytest
import yaml

from flowmaestro.cli import main
from flowmaestro.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
KUBECTL = shutil.which("kubectl")
# The oldest minor version still supported upstream when this was written; `preStop.sleep`
# needs 1.30.
KUBERNETES = "1.32.0"
SECRET_SETTINGS = {"FLOWMAESTRO_DATABASE_URL", "FLOWMAESTRO_JWT_SECRET", "FLOWMAESTRO_ADMIN_TOKEN"}

pytestmark = pytest.mark.skipif(
    KUBECTL is None, reason="kubectl is not installed (it renders the kustomization)"
)


def render(path: str) -> list[dict[str, Any]]:
    assert KUBECTL is not None
    out = subprocess.run(
        [KUBECTL, "kustomize", str(ROOT / "deploy" / "kubernetes" / path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.fixture(scope="module", params=["base", "overlays/production"])
def resources(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return render(request.param)


def of_kind(resources: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in resources if r["kind"] == kind]


def pod_specs(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    specs = []
    for r in resources:
        if r["kind"] in ("Deployment", "Job"):
            specs.append(r["spec"]["template"]["spec"])
        elif r["kind"] == "CronJob":
            specs.append(r["spec"]["jobTemplate"]["spec"]["template"]["spec"])
    return specs


def test_every_resource_validates_against_the_schemas(resources: list[dict[str, Any]]) -> None:
    for resource in resources:
        kubernetes_validate.validate(resource, KUBERNETES, strict=True)


def test_every_part_is_there(resources: list[dict[str, Any]]) -> None:
    names = {(r["kind"], r["metadata"]["name"]) for r in resources}
    assert {
        ("Deployment", "flowmaestro-gateway"),
        ("Deployment", "flowmaestro-worker"),
        ("Job", "flowmaestro-migrate"),
        ("CronJob", "flowmaestro-prune"),
        ("Service", "flowmaestro-gateway"),
        ("Ingress", "flowmaestro"),
        ("PodDisruptionBudget", "flowmaestro-gateway"),
        ("PodDisruptionBudget", "flowmaestro-worker"),
        ("HorizontalPodAutoscaler", "flowmaestro-gateway"),
        ("NetworkPolicy", "postgres-internal"),
        ("NetworkPolicy", "temporal-internal"),
    } <= names
    (ingress,) = of_kind(resources, "Ingress")
    assert ingress["spec"]["tls"][0]["secretName"]
    annotations = ingress["metadata"]["annotations"]
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    (cron,) = of_kind(resources, "CronJob")
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"


def test_secrets_come_from_secrets_never_literals(resources: list[dict[str, Any]]) -> None:
    assert not of_kind(resources, "Secret")
    (config,) = of_kind(resources, "ConfigMap")
    assert not set(config["data"]) & SECRET_SETTINGS
    for spec in pod_specs(resources):
        for container in spec["containers"]:
            for var in container.get("env", []):
                if var["name"] in SECRET_SETTINGS:
                    assert "value" not in var and var["valueFrom"]["secretKeyRef"], var


def test_settings_are_ones_the_settings_class_knows(resources: list[dict[str, Any]]) -> None:
    known = {f"FLOWMAESTRO_{field.upper()}" for field in Settings.model_fields}
    (config,) = of_kind(resources, "ConfigMap")
    assert set(config["data"]) <= known
    for spec in pod_specs(resources):
        for container in spec["containers"]:
            assert {v["name"] for v in container.get("env", [])} <= known


def test_every_container_has_resources_and_commands_the_cli_has(
    resources: list[dict[str, Any]],
) -> None:
    for spec in pod_specs(resources):
        assert spec["securityContext"]["runAsNonRoot"] is True
        for container in spec["containers"]:
            assert container["resources"]["requests"] and container["resources"]["limits"]
            command, *args = container["args"]
            subcommand = main.commands[command]
            with click.Context(main) as parent:
                subcommand.make_context(command, list(args), parent=parent)


def test_gateways_split_liveness_from_readiness_and_drain_in_time(
    resources: list[dict[str, Any]],
) -> None:
    (gateway,) = [r for r in of_kind(resources, "Deployment") if "gateway" in r["metadata"]["name"]]
    spec = gateway["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    (config,) = of_kind(resources, "ConfigMap")
    drain = float(config["data"]["FLOWMAESTRO_DRAIN_SECONDS"])
    pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert spec["terminationGracePeriodSeconds"] > drain + pause
    assert gateway["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
