# For a contributor: the same commands CI and the README use (.venv from `make venv`).
.PHONY: venv check test test-fast bench

venv:
	python3 -m venv .venv && .venv/bin/pip install -q -e '.[test,check,bench]'

check:  # lint, formatting, types, the import contract (what .ci/run runs before the tests)
	scripts/check

test:  # everything, as .ci/run: OS accounts and chromium included (root for the accounts)
	.venv/bin/python -m pytest

test-fast:  # without the tests that create OS accounts or need a browser
	.venv/bin/python -m pytest -m "not system and not browser"

bench:  # every benchmark under /tmp/bench.lock, and the table bench/README.md quotes (bench/results/run_all.md)
	.venv/bin/python bench/run_all.py
