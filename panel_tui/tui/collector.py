"""Python's cycle collector held off while a console computes and paints new boards.

With 10,000 candidates on the boards, one full collection of the console's objects took
0.15 s to 0.25 s of the interpreter, and landed on the paint that shows a corrected total in
three rounds of four (seen by hand, logging the collector's passes during bench_console's
live measure). Objects are still freed as soon as
nothing refers to them; only cycles wait, and the collector runs again, as usual, once the
boards are on the screen. A hold never lasts longer than ``MOST`` seconds.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable

MOST = 30.0  # seconds: a hold whose release never came (a lost message) ends by itself


class CollectorHold:
    """Holds of the collector, from any thread; they nest (a reload may begin while the
    boards of the one before are being painted), and the collector runs again when the last
    is released, unless it was off before the first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holds: set[object] = set()
        self._since = 0.0
        self._was_enabled = True

    def hold(self) -> Callable[[], None]:
        """Hold the collector off; returns the release (once is enough, twice is harmless)."""
        token = object()
        with self._lock:
            if not self._holds:
                self._was_enabled = gc.isenabled()
                self._since = time.monotonic()
                gc.disable()
            self._holds.add(token)

        def release() -> None:
            with self._lock:
                if token in self._holds:
                    self._holds.discard(token)
                    self._resume()

        return release

    def overdue(self) -> None:
        """End every hold older than ``MOST`` seconds (the console's poll calls this)."""
        with self._lock:
            if self._holds and time.monotonic() - self._since > MOST:
                self._holds.clear()
                self._resume()

    @property
    def held(self) -> bool:
        return bool(self._holds)

    def _resume(self) -> None:
        if not self._holds and self._was_enabled:
            gc.enable()


COLLECTOR = CollectorHold()  # (the collector is the process's: one hold for every console in it)
