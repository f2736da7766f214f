"""Where the built UI is: the configured directory, the one packaged in a wheel, or web/dist."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from flowmaestro import gateway

if TYPE_CHECKING:
    from flowmaestro.settings import Settings

_PACKAGED = Path(gateway.__file__).parent / "ui"
_SOURCE = Path(__file__).resolve().parents[1] / "web" / "dist"


def ui_dir(settings: Settings) -> Path:
    """FLOWMAESTRO_WEB_DIST, else the wheel's `gateway/ui`, else the checkout's web/dist."""
    if settings.web_dist is not None:
        return settings.web_dist
    if (_PACKAGED / "index.html").is_file():
        return _PACKAGED
    return _SOURCE
