"""A render process (`python -m flowmaestro.activities.render_process`): renders templates sent on
stdin, one at a time, answering on stdout. Frames are a 4-byte length and JSON, both ways.

It starts with a clean environment (no secrets to read) and a capped address space, and
holds nothing but the sandboxed templates it is given; activities/render_pool.py kills and
replaces it when a render overruns.
"""

from __future__ import annotations

import json
import resource
import struct
import sys
from typing import Any, BinaryIO

from flowmaestro.activities.templating import render
from flowmaestro.flows.errors import TemplateError
from flowmaestro.flows.templates import LIMIT
from flowmaestro.security import Limits

_HEADER = struct.Struct(">I")


def read_frame(stream: BinaryIO) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    return json.loads(stream.read(size))


def frame(message: Any) -> bytes:
    data = json.dumps(message, separators=(",", ":")).encode()
    return _HEADER.pack(len(data)) + data


def serve(limits: Limits, inp: BinaryIO, out: BinaryIO) -> None:
    memory = limits.template_max_memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # Imports are done: from now on a render's time is the render's own.
    out.write(frame({"ready": True}))
    out.flush()
    while True:
        try:
            request = read_frame(inp)
        except EOFError:
            return
        try:
            reply: dict[str, Any] = {"ok": render(request["value"], request["context"], limits)}
        except TemplateError as exc:
            reply = {"template": exc.template, "problem": exc.problem, "type": exc.type}
        except MemoryError:
            reply = {"template": "", "problem": "over the render process's memory", "type": LIMIT}
        except Exception as exc:
            # A template must never take its process down; the node fails with the kind.
            problem = f"failed to render ({type(exc).__name__})"
            reply = {"template": "", "problem": problem, "type": "template_error"}
        out.write(frame(reply))
        out.flush()


if __name__ == "__main__":
    serve(Limits.model_validate_json(sys.argv[1]), sys.stdin.buffer, sys.stdout.buffer)
