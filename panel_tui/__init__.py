"""panel_tui: a console for the expert panel that decides a certification contest.

The package is layered: a Textual-free core (``config``, ``inputs``, ``engine``,
``session``, ``meeting``, ``signing``, ``export``, ``report``, ``analysis``) that both the
command line (``cli``) and the console (``tui``, ``serve``) use; a contract in
pyproject.toml and a test check that the core never imports Textual. Data flows one way:
files -> inputs -> engine -> meeting -> views.
"""

__version__ = "0.1.0"
