"""A real console in a pseudo-terminal: what it writes is read as a terminal would read it.

``Terminal(argv, ...)`` starts the process in a new session (no controlling terminal: closing
the terminal sends no SIGHUP, as when ``su`` stands between), with the pty as its stdin,
stdout and stderr; a thread drains what it writes into ``screen`` (a terminal reads it, or the
console would block). ``wait_for`` polls ``screen``; ``type`` writes keys; ``hang_up`` closes
the terminal; leaving the ``with`` block kills what is left.
"""

from __future__ import annotations

import os
import pty
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


class Terminal:
    def __init__(self, argv: list[str], *, cwd: Path, env: dict[str, str], size: tuple[int, int], **popen: Any) -> None:
        self.master: int | None
        self.master, slave = pty.openpty()
        env = {**env, "TERM": "xterm-256color", "COLUMNS": str(size[0]), "LINES": str(size[1])}
        self.child = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env, start_new_session=True, **popen
        )
        os.close(slave)
        self.screen = bytearray()
        threading.Thread(target=self._drain, args=(self.master,), daemon=True).start()

    def _drain(self, fd: int) -> None:
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the terminal was closed
                return
            if not data:
                return
            self.screen.extend(data)

    def wait_for(self, shown: Callable[[bytes], bool], timeout: float = 30) -> bool:
        """Whether ``shown(screen)`` came true within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not shown(bytes(self.screen)) and time.monotonic() < deadline:
            time.sleep(0.1)
        return shown(bytes(self.screen))

    def type(self, keys: bytes) -> None:
        assert self.master is not None
        os.write(self.master, keys)

    def hang_up(self) -> None:
        """The terminal goes away."""
        if self.master is not None:
            os.close(self.master)
            self.master = None

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.child.poll() is None:
            self.child.kill()
            self.child.wait()
        self.hang_up()
