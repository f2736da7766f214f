"""Reading a file for `kb_ingest` from the operator's import root, and nowhere else.

A flow names the file; the operator decides what may be read (`Limits.kb_import_root`;
unset: nothing). The path is resolved (symlinks included) and must stay under the root,
the final component is opened without following a symlink, only a regular file is read
(never /proc, /dev or a FIFO), and the size limit holds while reading.
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

from flowmaestro.flows.kb.errors import KbError

if TYPE_CHECKING:
    from pathlib import Path

_CHUNK = 1 << 16


def read_under(root: Path | None, path: str, max_bytes: int) -> bytes:
    """The bytes of `path` (relative to `root`, or absolute inside it); KbError otherwise.

    Blocking: call it in a thread."""
    if root is None:
        raise KbError(
            f"cannot read {path}: reading files is off on this server (upload the document "
            "or give `text`; an operator may set FLOWMAESTRO_LIMITS__KB_IMPORT_ROOT)",
            step="extraction",
            type="file_refused",
        )
    real_root = os.path.realpath(root)
    resolved = os.path.realpath(os.path.join(real_root, path))
    if os.path.commonpath([real_root, resolved]) != real_root:
        raise KbError(
            f"cannot read {path}: it is outside the import root",
            step="extraction",
            type="file_refused",
        )
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below).
        fd = os.open(resolved, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise KbError(
            f"cannot read {path}: {exc.strerror}", step="extraction", type="file_unreadable"
        ) from exc
    with os.fdopen(fd, "rb", buffering=0) as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise KbError(
                f"cannot read {path}: not a regular file", step="extraction", type="file_refused"
            )
        data = bytearray()
        # The size on disk may change or lie: the limit holds on what is actually read.
        while chunk := file.read(min(_CHUNK, max_bytes + 1 - len(data))):
            data += chunk
            if len(data) > max_bytes:
                raise KbError(
                    f"{path} is over the {max_bytes}-byte limit",
                    step="extraction",
                    type="too_large",
                )
        return bytes(data)
