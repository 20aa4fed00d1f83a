"""Modules imported where they are first used, not where they are named.

The console paints its first frame before it reads any file (issue 16): that frame needs
Textual and the config, not polars nor the engine, whose imports alone cost a third of it.
The modules on the first frame's path (the console, its leaderboard widget, the meeting) name
polars and the engine as ``lazy("polars")``: an attribute looked up on it imports the module
then (Python's import lock makes that safe from any thread) and keeps it for later lookups.
Type checkers see the real modules (``if TYPE_CHECKING`` beside each use).
"""

from __future__ import annotations

import importlib
from typing import Any


class LazyModule:
    """Stands for the module ``name`` until an attribute of it is wanted."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: Any = None

    def __getattr__(self, attribute: str) -> Any:
        # (Once imported, the module itself: a board's show looks up hundreds of attributes.)
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy(name: str) -> Any:
    return LazyModule(name)
