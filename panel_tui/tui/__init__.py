"""The Textual console. Only this package imports Textual; the core never does."""
