"""The OpenTelemetry SDK is an extra (`[tracing]`): without it every module imports, and only
`FLOWMAESTRO_TRACING` asks for it, naming the extra."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# Run in a process of its own: the SDK made unimportable, then every module of the package
# imported, then the tracing interceptors asked for.
WITHOUT_THE_SDK = textwrap.dedent(
    """
    import importlib, pkgutil, sys

    class Missing:
        def find_spec(self, name, path=None, target=None):
            if name == "opentelemetry.sdk" or name.startswith("opentelemetry.sdk."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Missing())
    import flowmaestro
    for module in pkgutil.walk_packages(flowmaestro.__path__, "flowmaestro."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    from flowmaestro.errors import FlowMaestroError
    from flowmaestro.settings import Settings
    from flowmaestro.temporal_connection import tracing_interceptors

    assert tracing_interceptors(Settings(tracing=False)) == []
    try:
        tracing_interceptors(Settings(tracing=True))
    except FlowMaestroError as exc:
        print(exc.hint)
    """
)


def test_without_the_sdk_everything_imports_and_tracing_names_the_extra() -> None:
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_THE_SDK],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "pip install 'flowmaestro-realtime[tracing]'" in result.stdout
