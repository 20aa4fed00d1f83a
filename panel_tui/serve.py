"""The shared screen in a browser: textual-serve runs a display instance per browser tab.

Every tab gets its own ``panel-tui --display`` process on the same contest and session:
read-only, following the focus, in the projector theme. Loopback only unless a host is
given explicitly, because anyone who can reach the port sees the display.

What this module adds to textual-serve (1.1.3):

* WebSockets only from the page's own origin (the Origin header must name the Host the
  request came to), so another web site open in the same browser cannot start displays;
  on loopback the Host must be a loopback name too (no DNS rebinding).
* At most ``max_clients`` display processes; the page and a late WebSocket say the display
  is full instead of starting another one.
* Every display child ends within two seconds of its tab closing, whenever that happens,
  and with the server however it ends. The server closes the child's input, waits, then
  kills it; the child dies with the server (``PR_SET_PDEATHSIG``), and its driver
  (``ServedDriver``) leaves on end of input and gives Textual under a second to shut down
  before exiting anyway.

Why the last one is needed: a tab that closes while its display is starting (a screenshot
tool, a quick reload) makes textual-serve send "quit" while the browser's first resize is
still being laid out. Textual 8.2 then stops the app's message loop (``ExitApp`` queues the
end and begins a batch, so nothing is painted) while the screen keeps resizing between the
app's old size and the browser's: each ``Resize`` lays out and schedules a refresh that
resizes again, the screen's queue never empties, and the app's shutdown waits for it
forever, at 60-95 % CPU. SIGTERM only posts another ``ExitApp``, which an exiting app
ignores. And textual-serve never closed the child's input nor killed it, so nothing else
ended it.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import ipaddress
import json
import logging
import os
import shlex
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import WSCloseCode, WSMsgType, web
from rich.console import Console
from textual import messages
from textual.drivers.web_driver import WebDriver
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int
from yarl import URL

from panel_tui.i18n import _, ngettext

log = logging.getLogger("textual-serve")

CHILD_GRACE = 0.8  # seconds a child gives Textual to shut down once told to go, then exits anyway
KILL_AFTER = 1.0  # seconds the server waits for a child after its tab closed, then kills it
DEFAULT_MAX_CLIENTS = 16


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def display_command(config: Path, session: Path, language: str | None = None) -> str:
    """The command each browser tab runs: this interpreter, the display, absolute paths, and
    the language ``serve`` runs in (its ``--lang``, the contest's or the locale's)."""
    return shlex.join(
        [
            sys.executable,
            "-m",
            "panel_tui",
            *(["--lang", language] if language else []),
            "--config",
            str(config.resolve()),
            "--session",
            str(session.resolve()),
            "--display",
        ]
    )


def same_origin(origin: str | None, host: str | None, *, loopback_only: bool = False) -> bool:
    """Whether a WebSocket's ``Origin`` is the page it was served from: scheme http or https and
    the request's ``Host`` (default ports as the browser omits them). ``loopback_only``: the
    Host must also name a loopback address, as a server on loopback is only reached that way
    (an ssh tunnel keeps it), which keeps out pages whose own name resolves to 127.0.0.1."""
    if not origin or not host:
        return False
    try:
        page = URL(origin)
        if page.scheme not in ("http", "https") or page.path not in ("", "/") or page.user or page.query_string:
            return False
        served = URL(f"{page.scheme}://{host}")
    except ValueError:
        return False
    if not page.host or not served.host or page.port != served.port:
        return False
    if page.host.lower() != served.host.lower():
        return False
    return not loopback_only or is_loopback(served.host.lower())


def full_message(count: int) -> str:
    return ngettext(
        "The display is full: {n} tab is open; close one, then reload this page.",
        "The display is full: {n} tabs are open; close one, then reload this page.",
        count,
    ).format(n=count)


# --- the child: one display process per tab ----------------------------------------------

# Started by the server in front of each display child, it execs the display itself: the
# child is then killed when the server dies, however it dies (Linux), or exits at once if the
# server died before this line ran. (Not a preexec_fn: the server has threads.)
DIE_WITH_PARENT = (
    "import os, signal, sys\n"
    "if sys.platform.startswith('linux'):\n"
    "    import ctypes\n"
    "    ctypes.CDLL(None).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    os._exit(0)\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


class ServedDriver(WebDriver):
    """Textual's web driver for a display child of ``panel-tui serve`` (set in TEXTUAL_DRIVER).

    It leaves on "quit", on SIGTERM/SIGINT and on the end of its input (textual-serve's pipe
    closed: the tab or the server is gone), and always within ``CHILD_GRACE`` seconds: the
    display keeps nothing to save, and Textual's shutdown can stall (see the module doc).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._leaving = threading.Event()

    def start_application_mode(self) -> None:
        super().start_application_mode()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):  # instead of the web driver's: a bare ExitApp
            loop.add_signal_handler(sig, self.leave)

    def run_input_thread(self) -> None:
        super().run_input_thread()
        if not self.exit_event.is_set():  # the input ended (EOF), not the app: nobody is listening
            self.leave()

    def on_meta(self, packet_type: str, payload: dict[str, object]) -> None:
        if packet_type == "quit":
            self.leave()
        else:
            super().on_meta(packet_type, payload)

    def leave(self) -> None:
        """Ask the app to exit (from any thread), and exit the process if it has not in time."""
        if self._leaving.is_set():
            return
        self._leaving.set()
        threading.Thread(target=self._deadline, name="served-deadline", daemon=True).start()
        self._app.post_message(messages.ExitApp())

    @staticmethod
    def _deadline() -> None:
        time.sleep(CHILD_GRACE)
        os._exit(0)


# --- the server ------------------------------------------------------------------------------


class DisplayService(AppService):
    """One display child: started without a shell, through ``DIE_WITH_PARENT``, with the
    served driver, and ended for sure when its tab closes."""

    def __init__(self, command: str, **kwargs: Any) -> None:
        super().__init__(command, **kwargs)
        self._ending: asyncio.Task[None] | None = None

    # HACK: textual-serve 1.1.3 has no public hook for the environment or the process; these
    # two private methods are where AppService.start builds them (self._process, self._stdin
    # are what its run() and send_bytes() read).
    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        environment = super()._build_environment(width=width, height=height)
        environment["TEXTUAL_DRIVER"] = f"{__name__}:ServedDriver"
        return environment

    async def _open_app_process(self, width: int = 80, height: int = 24) -> asyncio.subprocess.Process:
        self._process = process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",
            "-S",
            "-c",
            DIE_WITH_PARENT,
            str(os.getpid()),
            *shlex.split(self.command),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._build_environment(width=width, height=height),
        )
        self._stdin = process.stdin
        return process

    @property
    def live(self) -> bool:
        """Starting or running (a child that exited on its own no longer counts)."""
        process = self._process  # HACK: see above
        return process is None or process.returncode is None

    async def stop(self) -> None:
        """End the child (idempotent, and it completes even if the caller is cancelled)."""
        if self._ending is None:
            self._ending = asyncio.ensure_future(self._end())
        await asyncio.shield(self._ending)

    async def _end(self) -> None:
        process, task = self._process, self._task  # HACK: see above
        if task is not None:
            await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)
        if process is not None and process.returncode is None:
            if self._stdin is not None and not self._stdin.is_closing():
                await self.send_meta({"type": "quit"})
                self._stdin.close()  # end of input: the child leaves even before it reads "quit"
            if not await _exited(process, KILL_AFTER):
                # (usual for a tab closed while its display was starting: it reads nothing yet)
                log.info(_("display process %s did not exit in %.1f s: killed"), process.pid, KILL_AFTER)
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await _exited(process, 5.0)
        if task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, 1.0)  # reads the child's output to its end
            self._task = None


async def _exited(process: asyncio.subprocess.Process, timeout: float) -> bool:
    """Wait up to ``timeout`` for the process to exit. (Polls the return code: Process.wait()
    also waits for its pipes to close, which an unread output pipe may never do.)"""
    end = time.monotonic() + timeout
    while process.returncode is None and time.monotonic() < end:
        await asyncio.sleep(0.05)
    return process.returncode is not None


class DisplayServer(Server):
    """textual-serve's server with the origin rule, a cap on displays, children that always
    end, and a default font size for the room (``?fontsize=`` still wins)."""

    def __init__(
        self, command: str, *, host: str, port: int, title: str, font_size: int, max_clients: int = DEFAULT_MAX_CLIENTS
    ) -> None:
        super().__init__(command, host=host, port=port, title=title)
        # Our own page (nothing fetched from another site: the room may be offline) and plain
        # log lines (textual-serve's are coloured for a terminal; ours go to a log or a pane).
        self.templates_path = Path(__file__).with_name("templates")
        self.console = Console(color_system=None, highlight=False, soft_wrap=True)
        self.font_size = font_size
        self.max_clients = max_clients
        self.loopback = is_loopback(host)
        self.services: set[DisplayService] = set()
        self.sockets: set[web.WebSocketResponse] = set()

    def initialize_logging(self) -> None:
        logging.basicConfig(
            level=logging.DEBUG if self.debug else logging.INFO,
            format="%(asctime)s panel-tui serve: %(message)s",
            datefmt="%H:%M:%S",
        )

    def live(self) -> int:
        """Display processes starting or running."""
        return sum(1 for service in self.services if service.live)

    def full(self) -> bool:
        return self.live() >= self.max_clients

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        if self.full():
            message = html.escape(full_message(self.live()))
            return web.Response(
                status=503,
                content_type="text/html",
                headers={"Retry-After": "10"},
                text=f"<!doctype html><meta charset=utf-8><title>{html.escape(self.title)}</title>"
                f"<body style='font:24px sans-serif;background:#000;color:#eee;padding:2em'>"
                f"<p>{message}</p></body>",
            )
        # URLs from the address the browser used (through an ssh tunnel: localhost), so the
        # WebSocket goes back to the same origin.
        base = URL.build(scheme=request.scheme, authority=request.host)
        context = {
            "font_size": to_int(request.query.get("fontsize", str(self.font_size)), self.font_size),
            "app_websocket_url": str(base.with_scheme("wss" if request.scheme == "https" else "ws") / "ws"),
            "config": {"static": {"url": f"{base}/static/"}},
            "application": {"name": self.title},
        }
        return aiohttp_jinja2.render_template("display.html", request, context)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        if not same_origin(request.headers.get("Origin"), request.host, loopback_only=self.loopback):
            log.warning(_("refused a WebSocket from origin %r (host %r)"), request.headers.get("Origin"), request.host)
            raise web.HTTPForbidden(text="panel-tui serve: " + _("only its own page may connect") + "\n")
        websocket = web.WebSocketResponse(heartbeat=15)
        if self.full():
            message = full_message(self.live())
            await websocket.prepare(request)
            await websocket.send_bytes(f"\r\n  {message}\r\n".encode())
            # (a close frame's reason holds at most 123 bytes: Hangul takes three each)
            reason = message.encode()[:123].decode("utf-8", "ignore").encode()
            await websocket.close(code=WSCloseCode.TRY_AGAIN_LATER, message=reason)

            return websocket
        service = DisplayService(
            self.command,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
            debug=self.debug,
        )
        self.services.add(service)  # the slot is taken before the first await
        self.sockets.add(websocket)
        try:
            await websocket.prepare(request)
            await service.start(
                to_int(request.query.get("width", "80"), 80), to_int(request.query.get("height", "24"), 24)
            )
            await self._relay(websocket, service)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # (a tab that went away mid-handshake, mostly)
            log.info(_("display websocket ended: %r"), error)
        finally:
            self.sockets.discard(websocket)
            try:
                await service.stop()
            finally:
                self.services.discard(service)
        return websocket

    @staticmethod
    async def _relay(websocket: web.WebSocketResponse, service: DisplayService) -> None:
        """The browser's keys, size and focus to the child (textual-serve's protocol)."""
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                kind, data = json.loads(message.data)
            except (ValueError, TypeError):
                continue
            if kind == "stdin" and isinstance(data, str):
                await service.send_bytes(data.encode("utf-8"))
            elif kind == "resize" and isinstance(data, dict):
                await service.set_terminal_size(to_int(str(data.get("width")), 80), to_int(str(data.get("height")), 24))
            elif kind == "ping":
                await websocket.send_json(["pong", data])
            elif kind == "blur":
                await service.blur()
            elif kind == "focus":
                await service.focus()

    async def on_shutdown(self, app: web.Application) -> None:
        """Ctrl+C or SIGTERM: every display ends before the server does."""
        await asyncio.gather(*(service.stop() for service in list(self.services)), return_exceptions=True)
        closing = [asyncio.wait_for(ws.close(code=WSCloseCode.GOING_AWAY), 1.0) for ws in list(self.sockets)]
        await asyncio.gather(*closing, return_exceptions=True)
