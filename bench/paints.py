"""When a running console shows a change: the end of the first frame it paints after the
change reached its board, as a person at the screen would see it (bench_console's live
measures, in process and in the served tabs it starts).

The harness looks without loading the console: it checks its condition once per frame the
console paints (in Textual's own refresh, ``Screen._compositor_refresh``, which renders what
changed) and otherwise sleeps. Until session 14 the live measures polled with Textual's
``Pilot.pause(0.02)``, which each time queues a callback on every widget of the screen, waits
for all of them and forces a refresh: work a console does not do, in the thread that paints
the board, while the reload runs beside it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from textual.screen import Screen

_WATCHING: list[Paints] = []  # every Paints of this process; Textual's paint is hooked once


def _hook() -> None:
    original = Screen._compositor_refresh

    def painted(screen: Screen) -> None:
        original(screen)
        for paints in _WATCHING:
            paints.after_paint()

    Screen._compositor_refresh = painted  # type: ignore[method-assign]


class Paints:
    """Watches the paints of every screen of this process."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self._condition: Callable[[], bool] | None = None
        self._seen: float | None = None
        if not _WATCHING:
            _hook()
        _WATCHING.append(self)

    def after_paint(self) -> None:
        if self._condition is not None and self._seen is None and self._condition():
            self._seen = self.clock()

    async def seen(self, condition: Callable[[], bool], step: float = 0.005, timeout: float = 120.0) -> float:
        """The clock's time at the end of the first frame painted once ``condition()`` holds
        (checked after each frame: a frame painted before the board took the change does not
        count, and the one after it does, whatever else it repainted)."""
        self._seen, self._condition = None, condition
        deadline = time.monotonic() + timeout
        try:
            while self._seen is None:
                if time.monotonic() > deadline:
                    raise TimeoutError("the change never reached a painted frame")
                await asyncio.sleep(step)
            return self._seen
        finally:
            self._condition = None
