"""`panel-tui serve` guards (issue 11, point 6): WebSockets only from the page's own origin,
a cap on display processes, and no display process outliving its tab or the server. The real
server runs as a subprocess on a free port; its display children are found in /proc."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import aiohttp
import pytest
from browser import CHROMIUM, FLAGS, Browser, displays, free_port, wait_for_http, wait_until

from panel_tui.serve import same_origin

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "panel_tui" / "demo"
GONE_WITHIN = 3.0  # seconds: the server promises 2; the rest is slack for a loaded machine

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds processes in /proc (Linux)")
needs_chromium = pytest.mark.skipif(not CHROMIUM, reason="needs Debian's chromium (.ci/run installs it)")


class Served:
    """`python -m panel_tui serve` on the demo in ``folder``, in a process group of its own."""

    def __init__(self, folder: Path, *args: str) -> None:
        shutil.copytree(DEMO / "data", folder / "data")
        shutil.copy(DEMO / "config.toml", folder / "config.toml")
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.origin = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "panel_tui", "serve", "--port", str(self.port), *args],
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_http(self.url)

    def displays(self) -> list[int]:
        """This server's display children."""
        return displays(str(self.folder), self.proc.pid)

    def strays(self) -> list[int]:
        """Display processes of this test anywhere (children of the server or orphans)."""
        return displays(str(self.folder))

    async def connect(self, session: aiohttp.ClientSession, **headers: str) -> aiohttp.ClientWebSocketResponse:
        """A tab's WebSocket, as the page opens it (same origin unless told otherwise)."""
        headers = {"Origin": self.origin, **headers}
        ws = await session.ws_connect(f"{self.url}ws?width=100&height=30", headers=headers)
        await ws.send_str('["resize", {"width": 100, "height": 33}]')
        return ws

    def close(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):  # (whatever a failing test left behind)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                continue
        for pid in self.strays():
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def serve(tmp_path: Path):
    started: list[Served] = []

    def start(*args: str) -> Served:
        served = Served(tmp_path / f"s{len(started)}", *args)
        started.append(served)
        return served

    yield start
    for served in started:
        served.close()


async def gone(served: Served, timeout: float = GONE_WITHIN) -> bool:
    return await asyncio.to_thread(wait_until, lambda: not served.strays(), timeout)


async def count(served: Served, n: int, timeout: float = 20.0) -> bool:
    return await asyncio.to_thread(wait_until, lambda: len(served.displays()) == n, timeout)


async def first_frame(ws: aiohttp.ClientWebSocketResponse, timeout: float = 60.0) -> None:
    """Wait until the display has painted (it is fully started)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        message = await ws.receive(timeout=end - time.monotonic())
        if message.type == aiohttp.WSMsgType.BINARY and len(message.data) > 1000:
            return
        assert message.type not in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), message
    raise TimeoutError("no first frame")


def test_the_origin_rule():
    # the README's ssh tunnel: the browser at http://localhost:8000, the server on 127.0.0.1:8000
    assert same_origin("http://localhost:8000", "localhost:8000", loopback_only=True)
    assert same_origin("http://127.0.0.1:8000", "127.0.0.1:8000", loopback_only=True)
    assert same_origin("http://[::1]:8000", "[::1]:8000", loopback_only=True)
    assert same_origin("http://LocalHost:8000", "localhost:8000", loopback_only=True)
    assert same_origin("https://panel.example", "panel.example:443")  # default ports as browsers omit them
    assert same_origin("http://panel.example", "panel.example")
    assert not same_origin(None, "localhost:8000")
    assert not same_origin("", "localhost:8000")
    assert not same_origin("null", "localhost:8000")
    assert not same_origin("http://localhost:8000", None)
    assert not same_origin("http://evil.example:8000", "localhost:8000")
    assert not same_origin("http://localhost:8001", "localhost:8000")
    assert not same_origin("http://127.0.0.1:8000", "localhost:8000")
    assert same_origin("https://localhost:8000", "localhost:8000")  # (behind a TLS proxy)
    assert not same_origin("ftp://localhost:8000", "localhost:8000")
    assert not same_origin("http://localhost:8000/path", "localhost:8000")
    # a foreign page whose name resolves to 127.0.0.1 (DNS rebinding) on a loopback server
    assert not same_origin("http://rebind.example:8000", "rebind.example:8000", loopback_only=True)
    assert same_origin("http://panel.example:8000", "panel.example:8000")  # served on another address


def test_a_foreign_or_missing_origin_is_refused_before_any_process_starts(serve):
    served = serve()

    async def scenario():
        async with aiohttp.ClientSession() as session:
            for headers in (
                {"Origin": "http://evil.example"},
                {"Origin": "null"},
                {"Origin": ""},
                {"Origin": f"http://localhost:{served.port}"},  # Host 127.0.0.1: another origin
                {"Origin": f"http://rebind.example:{served.port}", "Host": f"rebind.example:{served.port}"},
            ):
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await served.connect(session, **headers)
                assert refused.value.status == 403, headers
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:  # no Origin header at all
                await session.ws_connect(f"{served.url}ws")
            assert refused.value.status == 403
            await asyncio.sleep(0.3)
            assert served.strays() == []
            # The ssh tunnel: the browser at http://localhost:PORT. The page sends the WebSocket
            # back to the address the browser used, and that origin is accepted.
            tunnel = {"Host": f"localhost:{served.port}"}
            async with session.get(served.url, headers=tunnel) as page:
                assert f'data-session-websocket-url="ws://localhost:{served.port}/ws"' in await page.text()
            ws = await served.connect(session, Origin=f"http://localhost:{served.port}", **tunnel)
            assert await count(served, 1)
            await ws.close()
            assert await gone(served)

    asyncio.run(scenario())


def test_max_clients_refuses_more_tabs_with_a_message_and_frees_a_slot_when_one_closes(serve):
    served = serve("--max-clients", "2")

    async def scenario():
        async with aiohttp.ClientSession() as session:
            first = await served.connect(session)
            second = await served.connect(session)
            assert await count(served, 2)
            # the page says so rather than open a WebSocket that would be refused
            async with session.get(served.url) as page:
                assert page.status == 503
                assert "The display is full: 2 tabs are open; close one" in await page.text()
            # a WebSocket that comes anyway (a page loaded just before) gets the message, no process
            third = await served.connect(session)
            shown = await third.receive(timeout=10)
            assert shown.type == aiohttp.WSMsgType.BINARY
            assert b"The display is full: 2 tabs are open; close one" in shown.data
            closed = await third.receive(timeout=10)
            assert closed.type == aiohttp.WSMsgType.CLOSE and closed.data == aiohttp.WSCloseCode.TRY_AGAIN_LATER
            assert "display is full" in closed.extra
            assert len(served.displays()) == 2
            # closing a tab frees its slot (its process ends) for the next one
            await first.close()
            closed = time.monotonic()
            assert await count(served, 1, timeout=GONE_WITHIN)
            while True:  # (the server learns of the exit a moment after /proc shows it)
                async with session.get(served.url) as page:
                    if page.status == 200:
                        break
                assert time.monotonic() - closed < GONE_WITHIN, "the closed tab's slot is still taken"
                await asyncio.sleep(0.1)
            fourth = await served.connect(session)
            assert await count(served, 2)
            await first_frame(fourth)
            for ws in (second, fourth):
                await ws.close()
            assert await gone(served)

    asyncio.run(scenario())


class Seen:
    """Samples this test's display processes in the background: which ones ever existed."""

    def __init__(self, served: Served) -> None:
        self.served, self.pids, self._stop = served, set(), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.pids.update(self.served.strays())
            time.sleep(0.05)

    def stop(self) -> set[int]:
        self._stop.set()
        self._thread.join()
        return self.pids


@needs_chromium
@pytest.mark.browser
def test_tabs_closed_while_their_display_starts_leave_no_process(serve, tmp_path):
    served = serve()
    seen = Seen(served)
    # A screenshot tool: chromium opens the page, takes the picture and exits at once (this
    # left a display spinning 3 times out of 3).
    profile = tempfile.mkdtemp(prefix="chromium-")
    try:
        subprocess.run(
            [
                CHROMIUM,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--screenshot={tmp_path / 'shot.png'}",
                "--window-size=800,600",
                served.url,
            ],
            capture_output=True,
            timeout=60,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    closed = time.monotonic()
    assert wait_until(lambda: not served.strays(), GONE_WITHIN), f"left after {time.monotonic() - closed:.1f} s"

    async def scenario():
        async with Browser(width=800, height=600) as browser:
            # tabs closed at once, while connecting, and while their display starts; one reloaded
            tabs = []
            for delay in (0.0, 0.3, 0.8, 1.5):
                tabs.append(await browser.open_tab(served.url))
                await asyncio.sleep(delay)
            await browser.goto(served.url)
            await asyncio.sleep(0.5)
            await browser.call("Page.reload")
            await asyncio.sleep(0.5)
            for tab in tabs:
                await browser.close_tab(tab)
        # (leaving the context closes the browser: the reloaded tab goes too)

    asyncio.run(scenario())
    closed = time.monotonic()
    assert wait_until(lambda: not served.strays(), GONE_WITHIN), f"left after {time.monotonic() - closed:.1f} s"
    assert len(seen.stop()) >= 3, "the tabs did not even start their displays: nothing was tested"
    assert served.proc.poll() is None  # the server goes on
    wait_for_http(served.url, timeout=5)


def test_killing_serve_leaves_no_display_behind(serve):
    served = serve()

    async def scenario():
        async with aiohttp.ClientSession() as session:
            started = await served.connect(session)
            await first_frame(started)
            await served.connect(session)  # still starting when the server dies
            assert await count(served, 2)
            children = served.displays()
            os.kill(served.proc.pid, signal.SIGKILL)
            killed = time.monotonic()
            assert await gone(served), f"left after {time.monotonic() - killed:.1f} s: {children}"

    asyncio.run(scenario())


def test_sigterm_ends_serve_and_its_displays(serve):
    served = serve()

    async def scenario():
        async with aiohttp.ClientSession() as session:
            started = await served.connect(session)
            await first_frame(started)
            await served.connect(session)
            assert await count(served, 2)
            served.proc.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(served.proc.wait, 10) is not None
            assert await gone(served)

    asyncio.run(scenario())


def test_the_page_fetches_nothing_from_elsewhere_shows_the_name_as_text_and_logs_plainly(tmp_path):
    """The room may be offline (no font from another site), the contest's name is data, and
    the server's own lines are plain text, not a terminal's colour codes shown as pictures."""
    shutil.copytree(DEMO / "data", tmp_path / "data")
    config = (DEMO / "config.toml").read_text(encoding="utf-8")
    (tmp_path / "config.toml").write_text(config.replace('name = "', 'name = "<b>R&D</b> ', 1), encoding="utf-8")
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "panel_tui", "serve", "--port", str(port)],
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for_http(f"http://127.0.0.1:{port}/")
            import urllib.request

            with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as response:
                page = response.read().decode("utf-8")
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
    assert "&lt;b&gt;R&amp;D&lt;/b&gt;" in page and "<b>R&D" not in page
    links = [url for url in re.findall(r"""(?:href|src)=["']([^"']+)""", page) if url]
    assert links and all(url.startswith(f"http://127.0.0.1:{port}/") for url in links), links
    assert "googleapis" not in page
    output = log.read_bytes().decode("utf-8")
    assert "serving" in output.lower() or "127.0.0.1" in output, output
    assert "\x1b" not in output and "␛" not in output, output
