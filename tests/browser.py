"""A real headless browser for the served display: Debian's chromium, driven over the
DevTools protocol (with aiohttp, which textual-serve already brings), and tesseract to read
the text the page actually painted (xterm.js draws on a canvas, so the DOM has no text)."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TESSERACT = shutil.which("tesseract")
# The flags this machine needs: no sandbox as root, no GPU, and no background traffic (the
# network is closed; chromium's own connections would be refused, many at a time).
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, timeout: float = 30.0) -> None:
    import urllib.request

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(url)


def processes() -> dict[int, tuple[int, str]]:
    """Every process now: pid -> (parent pid, command line)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile
            continue
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        found[int(entry.name)] = (parent, cmdline)
    return found


def displays(marker: str, parent: int | None = None) -> list[int]:
    """Display processes (``--display``) whose command line names ``marker`` (a test's own
    folder), children of ``parent`` if given; zombies (exited, not yet reaped) excluded."""
    return [
        pid
        for pid, (ppid, cmdline) in processes().items()
        if "--display" in cmdline and marker in cmdline and (parent is None or ppid == parent) and not _zombie(pid)
    ]


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2] in "ZX"


def wait_until(condition, timeout: float, step: float = 0.1) -> bool:
    end = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() > end:
            return False
        time.sleep(step)


def ocr(png: Path) -> str:
    out = subprocess.run([TESSERACT, str(png), "stdout", "--psm", "6"], capture_output=True, text=True, timeout=60)
    return out.stdout


class Browser:
    """One headless chromium with one page, closed on exit."""

    def __init__(self, width: int = 1600, height: int = 1000) -> None:
        self.port = free_port()
        self.profile = tempfile.mkdtemp(prefix="chromium-")
        self.proc = subprocess.Popen(
            [
                CHROMIUM,
                *FLAGS,
                f"--remote-debugging-port={self.port}",
                f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._id = 0

    async def __aenter__(self) -> Browser:
        self.session = aiohttp.ClientSession()
        end = time.monotonic() + 30
        while True:
            try:
                async with self.session.get(f"http://127.0.0.1:{self.port}/json/list") as r:
                    pages = [t for t in await r.json() if t["type"] == "page"]
                if pages:
                    break
            except aiohttp.ClientError:
                pass
            if time.monotonic() > end:
                raise TimeoutError("chromium did not start")
            await asyncio.sleep(0.2)
        self.ws = None
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.ws is not None:
            await self.ws.close()
        await self.session.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    async def call(self, method: str, **params) -> dict:
        self._id += 1
        await self.ws.send_str(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads((await self.ws.receive()).data)
            if message.get("id") == self._id:
                if "error" in message:
                    raise RuntimeError(message["error"])
                return message.get("result", {})

    async def goto(self, url: str) -> None:
        """Open ``url`` in a new tab (a page target of its own) and attach to it."""
        async with self.session.put(f"http://127.0.0.1:{self.port}/json/new?{url}") as r:
            target = await r.json()
        self.ws = await self.session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0)
        await self.call("Page.enable")

    async def open_tab(self, url: str) -> str:
        """Open ``url`` in a new tab without attaching to it; return the tab's id."""
        async with self.session.put(f"http://127.0.0.1:{self.port}/json/new?{url}") as r:
            return (await r.json())["id"]

    async def close_tab(self, tab: str) -> None:
        async with self.session.get(f"http://127.0.0.1:{self.port}/json/close/{tab}") as r:
            await r.read()

    async def screenshot(self, path: Path) -> Path:
        import base64

        result = await self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(result["data"]))
        return path

    async def wait_for_text(self, wanted: list[str], shot: Path, timeout: float = 45.0) -> str:
        """Screenshot and read the page until every one of ``wanted`` shows; return what was read."""
        end = time.monotonic() + timeout
        text = ""
        while time.monotonic() < end:
            text = ocr(await self.screenshot(shot))
            if all(w.lower() in text.lower() for w in wanted):
                return text
            await asyncio.sleep(0.5)
        missing = [w for w in wanted if w.lower() not in text.lower()]
        raise AssertionError(f"{missing} never appeared on the page; last read:\n{text}")
