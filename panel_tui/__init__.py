"""panel_tui: a console for the expert panel that decides a certification contest.

The package is layered: a Textual-free core (``config``, ``inputs``, ``engine``,
and later ``session`` and ``export``) that both the command line (``cli``) and the
console (``tui``) use. Data flows one way: files -> inputs -> engine -> views.
"""

__version__ = "0.1.0"
