"""The development JWT secret: configured, or generated once and kept in the data dir."""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def dev_jwt_secret(state_dir: Path) -> tuple[str, bool]:
    """The secret in `state_dir/jwt-secret`, made on first use; (secret, newly generated).

    Kept so tokens minted by one `dev` (a signed-in browser tab) stay valid after a restart.
    """
    path = state_dir / "jwt-secret"
    try:
        return path.read_text(encoding="utf-8").strip(), False
    except FileNotFoundError:
        pass
    secret = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(secret + "\n")
    return secret, True
