"""The shared screen in a browser: textual-serve runs a display instance per browser tab.

Every tab gets its own ``panel-tui --display`` process on the same contest and session:
read-only, following the focus, in the projector theme. Loopback only unless a host is
given explicitly, because anyone who can reach the port sees the display.
"""

from __future__ import annotations

import ipaddress
import shlex
import sys
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from textual_serve.server import Server


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def display_command(config: Path, session: Path) -> str:
    """The command each browser tab runs: this interpreter, the display, absolute paths."""
    return shlex.join(
        [sys.executable, "-m", "panel_tui", "--config", str(config.resolve()), "--session", str(session.resolve()),
         "--display"]
    )


class DisplayServer(Server):
    """textual-serve's server with a default font size for the room (``?fontsize=`` still wins)."""

    def __init__(self, command: str, *, host: str, port: int, title: str, font_size: int) -> None:
        super().__init__(command, host=host, port=port, title=title)
        self.font_size = font_size

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: Any) -> dict[str, Any]:
        context = await Server.handle_index.__wrapped__(self, request)
        if "fontsize" not in request.query:
            context["font_size"] = self.font_size
        return context
