"""`python -m bench NAME [--quick]`: run one benchmark, print its table, save its JSON."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import pkgutil
from pathlib import Path

from bench.harness import render, save

_NOT_BENCHMARKS = {"harness", "support"}


def available() -> list[str]:
    here = Path(__file__).resolve().parent
    return sorted(
        m.name
        for m in pkgutil.iter_modules([str(here)])
        if not m.name.startswith("_") and m.name not in _NOT_BENCHMARKS
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("name", choices=available())
    parser.add_argument("--quick", action="store_true", help="a run of under a minute")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    module = importlib.import_module(f"bench.{args.name}")
    rows = asyncio.run(module.run(args.quick))
    print(render(args.name, rows))
    print(f"saved {save(args.name, rows, args.quick)}")


if __name__ == "__main__":
    main()
