"""Issue 16.4: the per-account cache of parsed score sheets (panel_tui/inputs/cache.py).

Never stale (a rewrite with the same size and mtime, even with a forged stat hint, gives the
new scores), never trusting an entry another account could have written (owner, mode, links,
the folder's own mode), never failing a load because of the cache (a damaged entry is parsed
over), and a bad file refused through it exactly as without it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from conftest import ContestFiles, claim_checks_done, console_in_its_block, csv_bytes, sheet_read_counters, tell
from conftest import counted_parses as _parses

from panel_tui.config import load_config
from panel_tui.errors import InputError
from panel_tui.inputs import cache, load_contest
from panel_tui.inputs import read as read_module

NOBODY = 65534


def _load(files: ContestFiles):
    data = load_contest(load_config(files.config))
    cache.wait_for_writes()
    return data


def _plain(frame: pl.DataFrame) -> pl.DataFrame:
    """A frame with its ids as text, in a fixed order (group-by output has none); an evaluator
    set by its size (its bits follow the codes, which each parse gives in its own order)."""
    ids = [c for c, t in frame.schema.items() if isinstance(t, (pl.Enum, pl.Categorical))]
    frame = frame.with_columns(pl.col(ids).cast(pl.String))
    if "evaluator_set" in frame.columns:
        frame = frame.with_columns(pl.col("evaluator_set").bitwise_count_ones())
    return frame.sort(frame.columns)


def _same(a, b) -> bool:
    """Two loaded contests hold the same score rows and cells."""
    return _plain(a.scores).equals(_plain(b.scores)) and _plain(a.cells).equals(_plain(b.cells))


def _entries(files: ContestFiles, derived: str | None = None) -> list[Path]:
    """The score sheets' entries, or (``derived``) what is kept beside them of one kind: their
    "cells", their "evaluators", the analysis's "statistics"."""
    folder = Path(os.environ["XDG_CACHE_HOME"]) / "panel-tui"  # (cache_folder() is None while the cache is off)
    every = sorted(folder.glob("*.arrow")) if folder.exists() else []
    if derived is None:
        return [entry for entry in every if "+" not in entry.name]
    return [entry for entry in every if "+" in entry.name and _kind(entry) == derived]


def _kind(kept: Path) -> str:
    """What a frame kept beside an entry holds, told by its columns."""
    columns = pl.read_ipc_schema(kept)
    if "sub_0" in columns:
        return "statistics"
    return "evaluators" if list(columns) == ["evaluator_id"] else "cells"


def test_an_unchanged_file_is_parsed_once(cached, monkeypatch):
    parses = _parses(monkeypatch)
    first = _load(cached)
    second = _load(cached)
    assert len(parses) == 1
    assert _same(second, first)
    (entry,) = _entries(cached)
    assert entry.stat().st_mode & 0o777 == 0o600 and entry.parent.stat().st_mode & 0o777 == 0o700


def _rewrite_same_size_and_mtime(files: ContestFiles) -> None:
    """Lower one score without changing the file's size or mtime (30.5 -> 20.5: one digit)."""
    path = files.path("scores.csv")
    before = path.stat()
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines[1:], start=1):
        *head, score = line.rstrip("\n").split(",")
        if score and score[0] in "23456789":
            lines[i] = ",".join([*head, str(int(score[0]) - 1) + score[1:]]) + "\n"
            break
    path.write_text("".join(lines), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def test_a_rewrite_with_the_same_size_and_mtime_is_never_served_stale(cached, monkeypatch):
    old = _load(cached)
    _rewrite_same_size_and_mtime(cached)
    new = _load(cached)
    monkeypatch.setenv("PANEL_TUI_CACHE", "off")
    fresh = load_contest(load_config(cached.config))  # what a parse gives, without the cache
    assert _same(new, fresh) and not _same(new, old)


@pytest.mark.parametrize("naming", ["the old entry", "no entry"])
def test_a_matching_stat_hint_does_not_decide_the_content_does(cached, monkeypatch, naming):
    """Even when the recorded (inode, size, mtime, ctime) all match (a forged hint, or a write
    within one tick of the clock), the content is hashed and a changed file parsed; the entry
    the hint names (loaded while the file is hashed) is thrown away."""
    _load(cached)
    _rewrite_same_size_and_mtime(cached)
    folder = cache.cache_folder()
    assert folder is not None
    (hint,) = folder.glob("*.stat")
    (entry,) = _entries(cached)
    named = "\n" + entry.name.removesuffix(".arrow") if naming == "the old entry" else ""
    hint.write_text(cache._stat_hint(os.stat(cached.path("scores.csv"))) + named, encoding="ascii")
    parses = _parses(monkeypatch)
    new = _load(cached)
    monkeypatch.setenv("PANEL_TUI_CACHE", "off")
    assert len(parses) == 1 and _same(new, load_contest(load_config(cached.config)))


def _forge(entry: Path) -> pl.DataFrame:
    """Overwrite a real entry with the same frame, every score set to its maximum-ish 0.5 more."""
    frame = pl.read_ipc(entry)
    forged = frame.with_columns(pl.col("score") + 0.5)
    tmp = entry.with_suffix(".forged")
    forged.write_ipc(tmp)
    os.replace(tmp, entry)
    os.chmod(entry, 0o600)
    return forged


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another account needs root")
def test_an_entry_owned_by_another_account_is_not_trusted(cached, monkeypatch):
    honest = _load(cached)
    (entry,) = _entries(cached)
    _forge(entry)
    os.chown(entry, NOBODY, -1)
    parses = _parses(monkeypatch)
    again = _load(cached)
    assert len(parses) == 1 and _same(again, honest)


@pytest.mark.parametrize("mode", [0o640, 0o660, 0o604])
def test_an_entry_others_could_write_or_read_is_not_trusted(cached, monkeypatch, mode):
    honest = _load(cached)
    (entry,) = _entries(cached)
    _forge(entry)
    os.chmod(entry, mode)
    parses = _parses(monkeypatch)
    assert _same(_load(cached), honest) and len(parses) == 1


def test_a_folder_shared_with_the_group_is_not_used(cached, monkeypatch):
    """A cache folder a group member could write into (mode 0770, say a shared home) is neither
    read nor written: every load parses."""
    folder = cache.cache_folder()
    assert folder is not None
    folder.mkdir(parents=True, mode=0o700)
    os.chmod(folder, 0o770)
    parses = _parses(monkeypatch)
    _load(cached)
    _load(cached)
    assert len(parses) == 2 and not list(folder.iterdir())  # parsed each time, nothing stored


def test_a_symbolic_link_as_entry_is_not_followed(cached, monkeypatch, tmp_path):
    honest = _load(cached)
    (entry,) = _entries(cached)
    elsewhere = tmp_path / "planted.arrow"
    os.replace(entry, elsewhere)
    _forge(elsewhere)
    entry.symlink_to(elsewhere)
    parses = _parses(monkeypatch)
    assert _same(_load(cached), honest) and len(parses) == 1


def test_a_hard_link_to_an_entry_is_not_trusted(cached, monkeypatch, tmp_path):
    honest = _load(cached)
    (entry,) = _entries(cached)
    _forge(entry)
    os.link(entry, tmp_path / "second-name.arrow")
    parses = _parses(monkeypatch)
    assert _same(_load(cached), honest) and len(parses) == 1


def test_a_damaged_entry_is_parsed_over(cached, monkeypatch):
    honest = _load(cached)
    (entry,) = _entries(cached)
    entry.write_bytes(b"ARROW1\x00\x00 not really")
    os.chmod(entry, 0o600)
    parses = _parses(monkeypatch)
    assert _same(_load(cached), honest) and len(parses) == 1
    assert _same(_load(cached), honest) and len(parses) == 1  # and written again


@pytest.mark.parametrize("left", ["empty", "zeros", "cut short"])
def test_what_a_crash_leaves_of_an_entry_is_parsed_over(cached, monkeypatch, left):
    """Entries are not synced to disk: a crash after the rename can leave the entry's name, its
    checksum beside it, and bytes that never reached the disk (none, zeros, or only the start).
    The checksum finds it: the file is parsed, and the entry written again."""
    honest = _load(cached)
    (entry,) = _entries(cached)
    data = entry.read_bytes()
    entry.write_bytes({"empty": b"", "zeros": bytes(len(data)), "cut short": data[: len(data) // 2]}[left])
    parses = _parses(monkeypatch)
    assert _same(_load(cached), honest) and len(parses) == 1
    assert _same(_load(cached), honest) and len(parses) == 1  # and written again


def test_an_entry_for_other_ids_is_not_used(cached, monkeypatch):
    """The candidates' ids are part of the key: a candidate added to candidates.csv makes the
    same score sheet another entry (its ids are an Enum of other categories)."""
    _load(cached)
    rows = cached.rows("candidates.csv")
    cached.write_rows("candidates.csv", [*rows, ["C99", "Newcomer", rows[1][2], *rows[1][3:]]])
    parses = _parses(monkeypatch)
    data = _load(cached)
    assert len(parses) == 1 and "C99" in data.scores.schema["candidate_id"].categories.to_list()


def test_a_bad_file_is_refused_the_same_way_and_not_kept(cached, monkeypatch):
    rows = cached.rows("scores.csv")
    rows[5][0] = "C404"
    cached.write_rows("scores.csv", rows)
    with pytest.raises(InputError) as through_cache:
        _load(cached)
    monkeypatch.setenv("PANEL_TUI_CACHE", "off")
    with pytest.raises(InputError) as plain:
        _load(cached)
    assert str(through_cache.value) == str(plain.value) and "line 6" in str(plain.value)
    assert _entries(cached) == []


def test_one_entry_per_file_and_a_bounded_folder(cached, monkeypatch):
    _load(cached)
    for score in ("1", "2", "3"):
        rows = cached.rows("scores.csv")
        rows[1][-1] = score
        cached.write_rows("scores.csv", rows)
        _load(cached)
    assert len(_entries(cached)) == 1  # the older versions of the same file were dropped


def test_the_cache_is_off_on_request(cached, monkeypatch):
    monkeypatch.setenv("PANEL_TUI_CACHE", "off")
    _load(cached)
    assert _entries(cached) == []


def test_the_parser_reads_the_bytes_it_was_given(contest):
    """The cache hashes and parses one buffer: read_table(data=...) parses those bytes, not the file."""
    from panel_tui.inputs import SCORES

    path = contest.path("scores.csv")
    data = path.read_bytes()
    path.write_text("not,the,file\n", encoding="utf-8")
    frame = read_module.read_table(path, SCORES, data=data)
    assert frame.height == data.count(b"\n") - 1


# -- what a security review of the cache found (a damaged entry of the account's own, a
# -- stopped process, a newer reader, writers killed mid-write), each held here


def test_an_entry_with_one_byte_changed_is_never_used(cached, monkeypatch):
    """Arrow IPC has no checksum of its own: a flipped byte in a score loaded without error
    and gave a wrong total, every run. Each entry's SHA-256 is kept beside it and checked
    before the bytes are parsed; a mismatch drops the entry and parses the file."""
    first = _load(cached)
    (entry,) = _entries(cached)
    data = bytearray(entry.read_bytes())
    data[len(data) // 2] ^= 0x01
    entry.write_bytes(bytes(data))
    parses = _parses(monkeypatch)
    again = _load(cached)
    assert len(parses) == 1 and _same(again, first)
    (rewritten,) = _entries(cached)  # parsed again and stored afresh
    assert rewritten.read_bytes() != bytes(data)


def _checksum_as_the_cache_would(entry: Path, name: str | None = None) -> None:
    """Write ``entry``'s checksum file as the cache does (over the name it is kept under)."""
    checksum = cache._checksum(name or entry.name.removesuffix(".arrow"))
    checksum.update(entry.read_bytes())
    (entry.parent / ((name or entry.name.removesuffix(".arrow")) + ".sha256")).write_bytes(
        checksum.hexdigest().encode("ascii")
    )


def test_an_entry_polars_cannot_read_is_dropped_even_with_its_checksum(cached, monkeypatch):
    """Damaged bytes that hash right (written so on purpose, as a bug might): polars raises,
    or even panics (a BaseException), on some; either way the file is parsed instead."""
    first = _load(cached)
    (entry,) = _entries(cached)
    garbage = b"ARROW1\x00\x00" + bytes(range(256)) * 4
    entry.write_bytes(garbage)
    _checksum_as_the_cache_would(entry)
    parses = _parses(monkeypatch)
    assert _same(_load(cached), first) and len(parses) == 1


def test_a_process_holding_the_lock_does_not_stop_another_for_long(cached, monkeypatch):
    """A process stopped while it parses (Ctrl+Z) holds the file's lock; another one waits
    ``LOCK_WAIT`` seconds at most, then parses the file itself."""
    import subprocess
    import sys
    import time

    monkeypatch.setattr(cache, "LOCK_WAIT", 0.3)
    first = _load(cached)
    for entry in _entries(cached):
        entry.unlink()
    (lock,) = (Path(os.environ["XDG_CACHE_HOME"]) / "panel-tui").glob("*.lock")
    # Another process holds the lock, as a stopped console would.
    code = (
        f"import fcntl, os, time; fd = os.open({str(lock)!r}, os.O_RDWR); fcntl.flock(fd, fcntl.LOCK_EX); "
        "print('held', flush=True); time.sleep(30)"
    )
    other = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "held"
        started = time.monotonic()
        assert _same(_load(cached), first)
        assert time.monotonic() - started < 5
    finally:
        other.kill()
        other.wait()


def test_another_version_of_the_reader_never_meets_this_ones_entries(cached, monkeypatch):
    """The reader's own code is part of the key: a fix to what it accepts must not be
    bypassed by an entry an older reader stored (two installs on one host share the folder)."""
    _load(cached)
    monkeypatch.setattr(cache, "READER", "another reader")
    parses = _parses(monkeypatch)
    _load(cached)
    assert len(parses) == 1


def test_temporary_files_of_killed_writers_and_orphaned_checksums_are_removed(cached):
    import time

    _load(cached)
    folder = Path(os.environ["XDG_CACHE_HOME"]) / "panel-tui"
    left = folder / ".abc-def.12345.tmp"
    left.write_bytes(b"half an entry")
    old = time.time() - 3600
    os.utime(left, (old, old))
    fresh = folder / ".abc-def.12346.tmp"  # (a writer at work now: kept)
    fresh.write_bytes(b"being written")
    orphan = folder / "0123456789abcdef-00.sha256"
    orphan.write_bytes(b"00")
    os.utime(orphan, (old, old))
    young = folder / "0123456789abcdef-01.sha256"  # (a writer about to rename its entry into place: kept)
    young.write_bytes(b"01")
    (cached.data / "scores.csv").write_text(
        (cached.data / "scores.csv").read_text(encoding="utf-8") + "\n", encoding="utf-8"
    )  # another version of the file: a store, and with it the clean-up
    _load(cached)
    assert not left.exists() and not orphan.exists() and fresh.exists() and young.exists()
    young.unlink()
    # The new version's entry, its cells and evaluators, each with its checksum; the old version's gone.
    assert (
        len(_entries(cached)) == 1 and len(_entries(cached, "cells")) == 1 and len(_entries(cached, "evaluators")) == 1
    )
    assert len(list(folder.glob("*.sha256"))) == 3


def test_the_lock_its_confirmation_and_verify_parse_the_files_not_the_cache(cached, monkeypatch):
    """What becomes public rests on the files alone: should the cache ever give a wrong frame
    (here: every score of C01 lowered), the lock, the chair's confirmation and verify still
    parse the sheet itself, and verify finds the lock true to the files."""
    from panel_tui.inputs import contest as contest_module
    from panel_tui.meeting import Meeting

    config = load_config(cached.config)
    truth = load_contest(config, fresh=True)
    original = contest_module.cached_entry

    def wrong(path, spec, lookups, deferred=False, ready=None, sketch=None, keep=None):
        frame, entry = original(path, spec, lookups)
        return frame.with_columns(
            pl.when(pl.col("candidate_id").cast(pl.String) == "C01")
            .then(pl.col("score") * 0.5)
            .otherwise(pl.col("score"))
            .alias("score")
        ), None

    monkeypatch.setattr(contest_module, "cached_entry", wrong)
    session = cached.root / "sessions" / "2022.sqlite"
    kim = Meeting(config, session, who="kim")
    assert not _same(kim.data(), truth)  # the cache's wrong frame is what a plain load gets
    kim.exclude("C24", "withdrawn", "withdrew")
    kim.decide_tie("service", ["S01", "S02"], "more citizens served")
    receipt = kim.propose_lock()
    final = receipt.proposal.payload["final"]
    c01 = next(e for c in final["categories"] for e in c["entries"] if e["candidate_id"] == "C01")
    assert c01["total"] == 1728.0  # the file's, not the cache's
    lee = Meeting(config, session, who="lee")
    lee.confirm_lock()
    assert lee.verify().ok
    # The minutes' analysis (their fragile outcomes) too.
    from panel_tui import analysis, minutes

    analysed = []
    real = analysis.robustness
    monkeypatch.setattr(analysis, "robustness", lambda data, decisions: analysed.append(data) or real(data, decisions))
    choi = Meeting(config, session, who="choi")
    assert not _same(choi.data(), truth)
    minutes.build(choi)
    (data,) = analysed
    assert _same(data, truth)


def test_a_process_that_waited_for_anothers_parse_loads_its_entry(cached, monkeypatch):
    """Two processes see the same new sheet: one parses it under the file's lock; the other,
    having waited for that lock, loads the entry the first stored (found by the file's hint,
    then checked by the hash of its own bytes) instead of parsing the sheet a second time."""
    first = _load(cached)
    for entry in _entries(cached):
        entry.unlink()
    parses = _parses(monkeypatch)
    real_lock, real_table = cache._lock, cache.cached_table

    def lock_after_another_parse(directory, prefix, done=None):
        # While this one waits for the lock, "another process" parses the sheet and stores it.
        monkeypatch.setattr(cache, "_lock", real_lock)
        real_table(cached.path("scores.csv"), *other_args)
        cache.wait_for_writes()
        return real_lock(directory, prefix, done)

    def remember_args(path, spec, lookups, deferred=False, ready=None, sketch=None, keep=None):
        other_args[:] = [spec, lookups]
        return cache.cached_entry(path, spec, lookups, deferred=deferred, ready=ready)

    other_args: list = []
    monkeypatch.setattr(cache, "_lock", lock_after_another_parse)
    monkeypatch.setattr("panel_tui.inputs.contest.cached_entry", remember_args)
    assert _same(_load(cached), first)
    assert len(parses) == 1  # only "the other process" parsed


def test_an_entry_is_written_once_the_block_that_read_it_ends(cached):
    """``writes_afterwards``: the console computes its boards before the entry is written."""
    import threading

    with cache.writes_afterwards():
        first = load_contest(load_config(cached.config))
        writers = [t for t in threading.enumerate() if t.name.startswith("panel-tui cache")]
        assert writers and not _entries(cached)
        writers[0].join(0.3)
        assert writers[0].is_alive() and not _entries(cached)  # still waiting for the block
    cache.wait_for_writes()
    assert len(_entries(cached)) == 1
    assert _same(_load(cached), first)


def test_a_parquet_sheet_is_kept_like_a_csv_one_and_never_served_stale(cached, monkeypatch):
    frame = pl.read_csv(cached.path("scores.csv"))
    frame.write_parquet(cached.path("scores.parquet"))
    config = cached.config.read_text(encoding="utf-8").replace("scores.csv", "scores.parquet")
    cached.config.write_text(config, encoding="utf-8")
    parses = _parses(monkeypatch)
    first = _load(cached)
    assert _same(_load(cached), first) and len(parses) == 1 and len(_entries(cached)) == 1
    frame.with_columns(pl.col("score") * 0.5).write_parquet(cached.path("scores.parquet"))
    halved = _load(cached)
    monkeypatch.setenv("PANEL_TUI_CACHE", "off")
    assert len(parses) == 2 and _same(halved, load_contest(load_config(cached.config)))


def test_a_console_computing_boards_is_seen_loading_by_the_accounts_other_processes(cached):
    """While a console (inside ``writes_afterwards``) computes boards from a sheet, the
    account's other processes see it loading (``others_loading``: their analyses wait for
    every screen's boards); once its block ends, they no longer do."""
    scores = cached.path("scores.csv")
    child = console_in_its_block(cached.config)
    try:
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().split()[0] == "loading"
        assert cache.others_loading(scores)
        assert not cache.others_loading(cached.path("candidates.csv"))  # (another file: no mark)
        tell(child)
        assert child.stdout.readline().strip() == "done"  # its block ended; the process lives on
        assert not cache.others_loading(scores)
        tell(child)
        assert child.wait(timeout=30) == 0
    finally:
        child.kill()
        child.wait()


def test_a_process_outside_a_console_block_leaves_no_loading_mark(cached):
    """``rank`` and the other commands (no ``writes_afterwards``) hold no mark; a console's
    marks go when its block ends."""
    _load(cached)
    assert not cache.others_loading(cached.path("scores.csv"))
    with cache.writes_afterwards():
        load_contest(load_config(cached.config))
        assert cache._MARKS  # (flock: this process's own mark conflicts with its own look too)
    assert not cache._MARKS and not cache.others_loading(cached.path("scores.csv"))
    cache.wait_for_writes()


def test_a_console_block_can_hand_its_marks_over_to_be_let_go_of_later(cached):
    """``writes_afterwards(marks)``: the marks outlive the block (the console holds them
    until its boards are painted) and go with ``let_go``."""
    scores = cached.path("scores.csv")
    marks: list[int] = []
    with cache.writes_afterwards(marks):
        load_contest(load_config(cached.config))
    assert marks and not cache._MARKS
    assert cache.others_loading(scores)  # (its own mark: the console's own analysis waits too)
    cache.let_go(marks)
    assert not marks and not cache.others_loading(scores)
    cache.let_go(marks)  # (twice: nothing left to let go of)
    cache.wait_for_writes()


def _entry_and_process(cached: ContestFiles, script: str) -> tuple[str, subprocess.Popen[str]]:
    """The demo sheet's cache entry (loaded, and kept), and another process of the account
    running ``script`` (``sys.argv[1]``: that entry), its stdin and stdout pipes of text."""
    data = _load(cached)
    assert data.kept is not None
    child = subprocess.Popen(
        [sys.executable, "-c", script, data.kept.entry],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    return data.kept.entry, child


def test_what_every_screen_asks_for_at_once_is_computed_by_one_process(cached):
    """``cached_derived(one_at_a_time=True)`` (the analysis's statistics, which every screen of
    the account asks for after a change): while one process computes it, another asking for
    the same waits and loads what the first one kept; it does not compute it too."""
    import time

    entry, child = _entry_and_process(
        cached,
        "import sys, time\n"
        "import polars as pl\n"
        "from panel_tui.inputs import cache\n"
        "def compute():\n"
        "    print('computing', flush=True)\n"
        "    time.sleep(1.0)\n"
        "    return pl.DataFrame({'x': [1, 2, 3]})\n"
        "cache.cached_derived(sys.argv[1], ['slow'], compute, lambda f: True, one_at_a_time=True)\n"
        "cache.wait_for_writes()\n",
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "computing"
        computed: list[bool] = []

        def compute():
            computed.append(True)
            return pl.DataFrame({"x": [0]})

        started = time.monotonic()
        found = cache.cached_derived(entry, ["slow"], compute, lambda f: True, one_at_a_time=True)
        assert not computed and found["x"].to_list() == [1, 2, 3]  # the other process's, loaded
        assert time.monotonic() - started > 0.3  # (it waited for it)
        assert child.wait(timeout=30) == 0
    finally:
        child.kill()
        child.wait()
    # Without one_at_a_time each process computes what is not kept yet (the cells: a process
    # never waits for another's analysis to get its boards).
    computed.clear()
    cache.cached_derived(entry, ["other"], compute, lambda f: True)
    assert computed
    cache.wait_for_writes()


def test_a_process_that_would_compute_slowly_waits_for_the_one_holding_the_placed_scores(cached, monkeypatch):
    """``cached_derived(one_at_a_time=True, defer=True)`` (an analysis with no scores placed by
    a stream: it would load the rows): while another process holds the file's scores as its
    stream placed them (``hold_placed_mark``), it waits for that one to compute and keep the
    frame, even when it asks first, and loads it; it never waits for a mark let go of, and
    after ``LOCK_WAIT`` seconds (a stopped process) it computes. Without ``defer`` (the process
    holding the scores itself) it computes at once."""
    import threading
    import time

    entry, child = _entry_and_process(
        cached,
        "import sys\n"
        "import polars as pl\n"
        "from panel_tui.inputs import cache\n"
        "release = cache.hold_placed_mark(sys.argv[1])\n"
        "print('holding', flush=True)\n"
        "sys.stdin.readline()\n"  # (computes once told: after the other process asked)
        "cache.cached_derived(sys.argv[1], ['placed'], lambda: pl.DataFrame({'x': [1, 2, 3]}), lambda f: True,\n"
        "                     one_at_a_time=True)\n"
        "release()\n"
        "cache.wait_for_writes()\n"
        "print('kept', flush=True)\n"
        "sys.stdin.readline()\n"  # (holds the mark again until told: the deadline below)
        "cache.hold_placed_mark(sys.argv[1])\n"
        "print('holding', flush=True)\n"
        "sys.stdin.readline()\n",
    )
    computed: list[str] = []

    def compute(what: str):
        def run():
            computed.append(what)
            return pl.DataFrame({"x": [0]})

        return run

    try:
        assert child.stdin is not None and child.stdout is not None
        assert child.stdout.readline().strip() == "holding"
        found: list[pl.DataFrame] = []
        asking = threading.Thread(
            target=lambda: found.append(
                cache.cached_derived(
                    entry, ["placed"], compute("deferring"), lambda f: True, one_at_a_time=True, defer=True
                )
            )
        )
        asking.start()
        time.sleep(0.3)
        assert asking.is_alive() and not computed  # (it asked first, and waits)
        # Without defer (the process that holds the scores): computed at once, mark or not.
        cache.cached_derived(entry, ["own"], compute("own"), lambda f: True, one_at_a_time=True)
        assert computed == ["own"]
        # Another version of the file (another entry): its mark is its own, none is held.
        other = entry.split("-", 1)[0] + "-" + "0" * 64
        cache.cached_derived(other, ["placed"], compute("other"), lambda f: True, one_at_a_time=True, defer=True)
        assert computed == ["own", "other"]
        tell(child, "go")
        asking.join(timeout=30)
        assert found and found[0]["x"].to_list() == [1, 2, 3] and computed == ["own", "other"]  # (the other's, loaded)
        assert child.stdout.readline().strip() == "kept"
        # The mark let go of: nobody to wait for.
        started = time.monotonic()
        cache.cached_derived(entry, ["let go"], compute("free"), lambda f: True, one_at_a_time=True, defer=True)
        assert computed == ["own", "other", "free"] and time.monotonic() - started < 1.0
        # Held by a process that never computes it: at most LOCK_WAIT seconds, then computed here.
        tell(child, "again")
        assert child.stdout.readline().strip() == "holding"
        monkeypatch.setattr(cache, "LOCK_WAIT", 0.5)
        started = time.monotonic()
        cache.cached_derived(entry, ["stopped"], compute("late"), lambda f: True, one_at_a_time=True, defer=True)
        assert computed == ["own", "other", "free", "late"] and time.monotonic() - started >= 0.5
        tell(child, "end")
        assert child.wait(timeout=30) == 0
    finally:
        child.kill()
        child.wait()
    cache.wait_for_writes()


def test_the_placed_marks_of_sheets_no_longer_kept_go_after_a_minute(cached):
    """A placed mark (``hold_placed_mark``) is one file per sheet: eviction drops those of
    sheets with nothing kept any more once they are a minute old (a stream holds its mark
    before its cells are written), and keeps the others."""
    import time

    data = _load(cached)
    assert data.kept is not None
    entry = data.kept.entry
    folder = Path(os.environ["XDG_CACHE_HOME"]) / "panel-tui"
    gone, young = (entry.split("-", 1)[0] + "-" + digit * 64 for digit in "01")
    for name in (entry, gone, young):
        cache.hold_placed_mark(name)()  # (made, then let go of)
    old = time.time() - 120
    for name in (entry, gone):
        os.utime(folder / (name + cache._PLACED_SUFFIX), (old, old))
    with cache._the_folder() as directory:
        assert directory is not None
        cache._evict(directory, entry)
    assert (folder / (entry + cache._PLACED_SUFFIX)).exists()  # (its sheet is kept)
    assert not (folder / (gone + cache._PLACED_SUFFIX)).exists()
    assert (folder / (young + cache._PLACED_SUFFIX)).exists()  # (not a minute old yet)


# The cells kept beside the sheet's entry (inputs.contest._cells, cache.cached_derived) -----------


def _groupings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every grouping of a score sheet into cells from now on (the loader's group_cells calls)."""
    from panel_tui.inputs import contest as contest_module

    calls: list[int] = []
    original = contest_module.group_cells

    def counting(config, candidates, indicators, scores):
        calls.append(scores.height)
        return original(config, candidates, indicators, scores)

    monkeypatch.setattr(contest_module, "group_cells", counting)
    return calls


def test_the_cells_of_an_unchanged_sheet_are_grouped_once(cached, monkeypatch):
    groupings = _groupings(monkeypatch)
    first = _load(cached)
    second = _load(cached)
    assert len(groupings) == 1 and _same(second, first)
    assert len(_entries(cached, "cells")) == 1
    monkeypatch.setenv("PANEL_TUI_CACHE", "off")
    assert _same(second, load_contest(load_config(cached.config)))


def _max_points(files: ContestFiles) -> None:
    files.set_cell("indicators.csv", 2, "max_points", "36")  # CI01: 35 -> 36


def _area(files: ContestFiles) -> None:
    files.set_cell("indicators.csv", 2, "area_id", "A9")


def _category(files: ContestFiles) -> None:
    files.set_cell("candidates.csv", 2, "category", "small_city")  # C01: another category, the same set


def _median(files: ContestFiles) -> None:
    files.edit_config('method = "trimmed_mean"', 'method = "median"')


@pytest.mark.parametrize("change", [_max_points, _area, _category, _median])
def test_the_cells_are_grouped_again_when_what_they_rest_on_changes(cached, monkeypatch, change):
    """The same score sheet, but another indicator maximum or area, a candidate in another
    category, another method: the kept cells are not those; they are grouped again, and are
    what a load without the cache gives."""
    _load(cached)
    change(cached)
    groupings = _groupings(monkeypatch)
    parses = _parses(monkeypatch)
    again = _load(cached)
    assert len(groupings) == 1 and not parses  # (the sheet itself still comes from its entry)
    monkeypatch.setenv("PANEL_TUI_CACHE", "off")
    assert _same(again, load_contest(load_config(cached.config)))


def test_damaged_cells_are_grouped_again_and_replaced(cached, monkeypatch):
    first = _load(cached)
    (kept,) = _entries(cached, "cells")
    data = bytearray(kept.read_bytes())
    data[len(data) // 2] ^= 0xFF
    kept.write_bytes(bytes(data))
    groupings = _groupings(monkeypatch)
    assert _same(_load(cached), first) and len(groupings) == 1
    (rewritten,) = _entries(cached, "cells")
    assert rewritten.read_bytes() != bytes(data)


def test_the_lock_groups_the_cells_itself(cached, monkeypatch):
    """``fresh`` (the lock, its confirmation, verify): the sheet parsed and its cells grouped
    here, whatever the cache keeps."""
    _load(cached)
    groupings = _groupings(monkeypatch)
    parses = _parses(monkeypatch)
    load_contest(load_config(cached.config), fresh=True)
    assert len(groupings) == 1 and not parses  # (a fresh read does not go through the cache's parse)


def _who(data) -> dict[tuple[str, str], frozenset[str]]:
    """Each cell's evaluators, read off its evaluator set through the sheet's own codes."""
    codes = data.scores.schema["evaluator_id"].categories.to_series().to_list()
    return {
        (str(c), str(i)): frozenset(e for bit, e in enumerate(codes) if word >> bit & 1)
        for c, i, word in data.cells.select("candidate_id", "indicator_id", "evaluator_set").iter_rows()
    }


def test_kept_cells_name_the_same_evaluators_whatever_codes_a_process_gives_them(cached, monkeypatch):
    """Loading one entry may number the evaluators in another order in another process; the
    kept cells' evaluator sets are turned into this process's codes (here: the codes reversed)."""
    from panel_tui.inputs import contest as contest_module
    from panel_tui.inputs.read import own_categorical

    truth = _who(_load(cached))
    original = contest_module.cached_entry

    def renumbered(path, spec, lookups, deferred=False, ready=None, sketch=None, keep=None):
        frame, entry = original(path, spec, lookups)  # (loaded: the rows renumbered here)
        # Codes go to the ids in the order they come: cast with the last id first.
        frame = (
            frame.with_row_index("_i")
            .sort(pl.col("evaluator_id").cast(pl.String), descending=True)
            .with_columns(pl.col("evaluator_id").cast(pl.String).cast(own_categorical()))
            .sort("_i")
            .drop("_i")
        )
        return frame, entry

    monkeypatch.setattr(contest_module, "cached_entry", renumbered)
    groupings = _groupings(monkeypatch)
    again = _load(cached)
    assert not groupings  # (the kept cells)
    codes = again.scores.schema["evaluator_id"].categories.to_series().to_list()
    assert codes == sorted(codes, reverse=True)
    assert _who(again) == truth


def test_kept_cells_renamed_to_another_key_checksum_and_all_are_not_loaded(cached, monkeypatch):
    """The checksum covers an entry's name with its bytes: cells kept for one indicator maximum,
    renamed (with a checksum made for them) to the key of another maximum, are grouped again."""
    _load(cached)
    (old,) = _entries(cached, "cells")
    old_bytes, old_checksum = old.read_bytes(), old.with_suffix(".sha256").read_bytes()
    cached.set_cell("indicators.csv", 2, "max_points", "36")
    _load(cached)  # (the cells for maximum 36, kept under their own key)
    (new,) = [e for e in _entries(cached, "cells") if e.name != old.name]
    new.write_bytes(old_bytes)  # the 35-point cells under the 36-point key, with their checksum
    new.with_suffix(".sha256").write_bytes(old_checksum)
    groupings = _groupings(monkeypatch)
    again = _load(cached)
    monkeypatch.setenv("PANEL_TUI_CACHE", "off")
    assert len(groupings) == 1 and _same(again, load_contest(load_config(cached.config)))


def test_kept_cells_of_unexpected_types_are_grouped_again_not_a_traceback(cached, monkeypatch):
    """Cells whose checksum is right but whose columns are not the grouping's (an evaluator set
    as text), with codes to turn back: grouped again, no error."""
    rows = cached.rows("scores.csv")
    column = rows[0].index("evaluator_id")
    for row in rows[1:]:
        if row[column] == "E01":
            row[column] = "Z01"  # (the first evaluator seen sorts last: its codes are turned back)
    cached.write_rows("scores.csv", rows)
    _load(cached)
    (kept,) = _entries(cached, "cells")
    frame = pl.read_ipc(kept.read_bytes())
    frame.with_columns(pl.col("evaluator_set").cast(pl.String)).write_ipc(kept, compression="lz4")
    _checksum_as_the_cache_would(kept)
    groupings = _groupings(monkeypatch)
    again = _load(cached)
    monkeypatch.setenv("PANEL_TUI_CACHE", "off")
    assert len(groupings) == 1 and _same(again, load_contest(load_config(cached.config)))


# The analysis's per-area statistics kept beside the cells (analysis._kept_per_area) -------------


def _routes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every computing of the analysis's per-area statistics from now on (either route)."""
    from panel_tui import analysis

    calls: list[str] = []

    def counted(name: str):
        original = getattr(analysis, name)

        def counting(data, cells, evaluators):
            calls.append(name)
            return original(data, cells, evaluators)

        return counting

    for name in ("_matrix_route", "_rows_route"):
        monkeypatch.setattr(analysis, name, counted(name))
    return calls


def _statistics(data) -> pl.DataFrame:
    """The analysis's per-area statistics of a loaded contest, kept or computed."""
    from panel_tui import analysis

    statistics = analysis._kept_per_area(data, analysis.contest_areas(data), analysis._evaluator_ids(data))
    cache.wait_for_writes()
    return statistics


def _analysed(files: ContestFiles) -> pl.DataFrame:
    return _statistics(_load(files))


def _uncached(files: ContestFiles, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PANEL_TUI_CACHE", "off")
    data = load_contest(load_config(files.config))
    data.scores  # noqa: B018  (its rows parsed now, not counted with the cache's loads later)
    monkeypatch.delenv("PANEL_TUI_CACHE")
    return data


def _uncached_analysis(files: ContestFiles, monkeypatch: pytest.MonkeyPatch) -> pl.DataFrame:
    return _statistics(_uncached(files, monkeypatch))


def test_the_analysis_of_an_unchanged_sheet_computes_its_statistics_once(cached, monkeypatch):
    from panel_tui.analysis import robustness_table

    routes = _routes(monkeypatch)
    first = robustness_table(_load(cached))
    cache.wait_for_writes()
    second = robustness_table(_load(cached))
    assert routes == ["_matrix_route"] and second.equals(first)
    assert len(_entries(cached, "statistics")) == 1
    monkeypatch.setenv("PANEL_TUI_CACHE", "off")
    assert second.equals(robustness_table(load_contest(load_config(cached.config))))


def _trim(files: ContestFiles) -> None:
    files.edit_config("trim_min_evaluators = 5", "trim_min_evaluators = 13")  # (no cell trimmed any more)


def _no_conflict(files: ContestFiles) -> None:
    files.edit_config('conflicts = "data/conflicts.csv"', "")


def _other_conflict(files: ContestFiles) -> None:
    files.write_rows("conflicts.csv", [["evaluator_id", "candidate_id"], ["E05", "C05"]])


@pytest.mark.parametrize("change", [_max_points, _area, _category, _median, _trim, _no_conflict, _other_conflict])
def test_the_statistics_are_computed_again_when_what_they_rest_on_changes(cached, monkeypatch, change):
    """The same score sheet, but another maximum, area, category, method, trimming rule or
    declared conflict: the kept statistics are not those; the analysis computes them again and
    is what it is without the cache."""
    before = _analysed(cached)
    change(cached)
    routes = _routes(monkeypatch)
    again = _analysed(cached)
    assert len(routes) == 1
    assert again.equals(_uncached_analysis(cached, monkeypatch))
    # (C01's cells move with it: the same sums; the demo's sheet has no score by E05 for C04)
    assert again.equals(before) == (change in (_category, _no_conflict))


@pytest.mark.parametrize(
    "setting", [("decimals = 2", "decimals = 1"), ("review_margin = 1.0", "review_margin = 3.0")], ids=lambda s: s[1]
)
def test_the_statistics_are_kept_when_only_the_ranking_s_settings_change(cached, monkeypatch, setting):
    """Other decimals or another review margin: the per-area sums are the same (those act on
    the ranking of the sums), so the kept statistics are loaded, not computed again; the
    analysis is what it is without the cache."""
    from panel_tui.analysis import robustness_table

    before = _analysed(cached)
    cached.edit_config(*setting)
    routes = _routes(monkeypatch)
    assert _analysed(cached).equals(before) and routes == []
    kept = robustness_table(_load(cached))
    monkeypatch.setenv("PANEL_TUI_CACHE", "off")
    assert kept.equals(robustness_table(load_contest(load_config(cached.config)))) and routes == ["_matrix_route"]


def test_a_contest_made_from_other_scores_does_not_take_the_kept_statistics(cached, monkeypatch):
    """A contest built from a loaded one with other scores and cells (as the analysis's
    reference does, ``dataclasses.replace``) is computed, not given the loaded sheet's."""
    from dataclasses import replace

    from panel_tui.analysis import robustness_table
    from panel_tui.inputs.cells import group_cells

    data = _load(cached)
    robustness_table(data)
    cache.wait_for_writes()
    scores = data.scores.with_columns(pl.col("score") * 0.5)
    cells = group_cells(data.config, data.candidates, data.indicators, scores).drop("evaluators")
    routes = _routes(monkeypatch)
    halved = replace(data, rows=scores, cells=cells)
    assert not _statistics(halved).equals(_statistics(data)) and len(routes) == 1


def test_damaged_statistics_are_computed_again_not_a_traceback(cached, monkeypatch):
    """Kept statistics with a byte changed, or of other types with their checksum made anew:
    computed again, the analysis as without the cache."""
    _load(cached)
    first = _analysed(cached)
    (kept,) = _entries(cached, "statistics")
    frame = pl.read_ipc(kept.read_bytes())
    data = bytearray(kept.read_bytes())
    data[len(data) // 2] ^= 0xFF
    kept.write_bytes(bytes(data))
    routes = _routes(monkeypatch)
    assert _analysed(cached).equals(first) and len(routes) == 1
    frame.with_columns(pl.col("scored").cast(pl.String)).write_ipc(kept, compression="lz4")
    _checksum_as_the_cache_would(kept)
    assert _analysed(cached).equals(first) and len(routes) == 2


# A kept sheet's rows, loaded only when asked for (inputs.contest._kept_sheet, DeferredRows) -------


@pytest.fixture
def kept(cached: ContestFiles) -> ContestFiles:
    """The demo, cached, without its declared conflicts (which are read off the rows), and its
    evaluators renamed so that the first one seen sorts last: the codes the sheet gives them
    are not the sorted order the kept cells carry."""
    cached.edit_config('conflicts = "data/conflicts.csv"', "")
    rows = cached.rows("scores.csv")
    column = rows[0].index("evaluator_id")
    first = rows[1][column]
    for row in rows[1:]:
        if row[column] == first:
            row[column] = "Z99"
    cached.write_rows("scores.csv", rows)
    return cached


def _entry_loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every deferred entry loaded from now on."""
    calls: list[str] = []
    original = cache.Deferred._load

    def counting(self):
        calls.append(self.name)
        return original(self)

    monkeypatch.setattr(cache.Deferred, "_load", counting)
    return calls


def test_a_kept_sheet_is_ranked_and_analysed_without_loading_its_rows(kept, monkeypatch):
    from panel_tui.analysis import _evaluator_ids, robustness_table
    from panel_tui.engine import standings, to_json
    from panel_tui.inputs.contest import DeferredRows

    truth = _uncached(kept, monkeypatch)
    _analysed(kept)  # (parsed; its cells, evaluators and the analysis's statistics kept)
    loads = _entry_loads(monkeypatch)
    data = _load(kept)
    assert isinstance(data.rows, DeferredRows) and data.rows.height == truth.scores.height
    assert to_json(standings(data)) == to_json(standings(truth))
    assert _evaluator_ids(data) == _evaluator_ids(truth) == truth.evaluator_ids
    assert robustness_table(data).equals(robustness_table(truth))
    assert loads == []
    assert _same(data, truth) and len(loads) == 1  # (asked for: loaded, once)
    data.scores  # noqa: B018
    assert len(loads) == 1


def test_rows_load_meanwhile_only_when_the_analysis_will_compute_its_statistics(kept, monkeypatch):
    """``rank --analysis`` (``analysis.prepare``): while the standings are computed, the rows
    load in a thread when the analysis's statistics are not kept (it will read the rows), and
    not when they are (it never will)."""
    import time

    from panel_tui.analysis import prepare, robustness_table

    _analysed(kept)
    loads = _entry_loads(monkeypatch)
    prepare(_load(kept))
    time.sleep(0.5)
    assert loads == []
    for statistics in _entries(kept, "statistics"):
        statistics.unlink()
    data = _load(kept)
    prepare(data)
    deadline = time.monotonic() + 10
    while not loads and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(loads) == 1
    robustness_table(data)
    assert len(loads) == 1  # (the analysis took the rows loaded meanwhile)


def test_a_kept_sheets_rows_name_the_evaluators_its_kept_cells_do(kept, monkeypatch):
    """The rows loaded later code the evaluators as the kept cells' sets do (the sorted ids),
    whatever codes the entry gives them; the analysis computed from those rows is right."""
    from panel_tui.analysis import robustness_table

    truth = _uncached(kept, monkeypatch)
    analysed = robustness_table(truth)
    _load(kept)
    data = _load(kept)
    routes = _routes(monkeypatch)
    assert _who(data) == _who(truth)
    assert robustness_table(data).equals(analysed) and len(routes) == 1  # (computed from the rows)


def test_a_contest_with_declared_conflicts_loads_its_rows(cached):
    from panel_tui.inputs.contest import DeferredRows

    _load(cached)
    assert not isinstance(_load(cached).rows, DeferredRows)


def test_rows_whose_entry_went_are_read_from_the_unchanged_file(kept, monkeypatch):
    truth = _uncached(kept, monkeypatch)
    _load(kept).scores  # noqa: B018  (streamed; its rows asked for: parsed, and their entry kept)
    cache.wait_for_writes()
    data = _load(kept)
    assert _entries(kept)
    for entry in _entries(kept):
        entry.unlink()
    parses = _parses(monkeypatch)
    assert _same(data, truth) and len(parses) == 1


def test_rows_whose_file_changed_since_it_was_hashed_are_refused(kept):
    _load(kept).scores  # noqa: B018
    cache.wait_for_writes()
    data = _load(kept)
    for entry in _entries(kept):
        entry.unlink()
    kept.set_cell("scores.csv", 2, "score", "1")
    with pytest.raises(InputError, match="changed while it was being read"):
        data.scores  # noqa: B018


def test_a_bad_sheet_is_refused_the_same_way_through_its_kept_cells(kept, monkeypatch):
    """A defect the cells show (a score given twice): the kept cells find it, the rows are
    loaded to name its line, as a parse does."""
    rows = kept.rows("scores.csv")
    rows.append(list(rows[3]))
    kept.write_rows("scores.csv", rows)
    with pytest.raises(InputError) as first:
        _load(kept)
    loads = _entry_loads(monkeypatch)
    with pytest.raises(InputError) as again:
        _load(kept)
    assert len(loads) == 1  # (through the kept cells, then the rows)
    monkeypatch.setenv("PANEL_TUI_CACHE", "off")
    with pytest.raises(InputError) as plain:
        _load(kept)
    assert str(first.value) == str(again.value) == str(plain.value)
    assert f"line {len(rows)}" in str(plain.value)


@pytest.mark.parametrize("unusable", ["turned off", "shared with the group"])
def test_rows_asked_for_once_the_cache_cannot_be_used_are_read_from_the_unchanged_file(kept, monkeypatch, unusable):
    truth = _uncached(kept, monkeypatch)
    _load(kept)
    data = _load(kept)
    if unusable == "turned off":
        monkeypatch.setenv("PANEL_TUI_CACHE", "off")
    else:
        (Path(os.environ["XDG_CACHE_HOME"]) / "panel-tui").chmod(0o750)
    assert _same(data, truth)


def test_a_sheet_that_changes_between_its_hash_and_its_rows_is_read_as_it_is_now(kept, monkeypatch):
    """The cells not kept (another maximum), and the file rewritten after it was hashed: the
    load reads the file as it is now, not an error."""
    from panel_tui.inputs import contest as contest_module

    _load(kept)
    kept.set_cell("indicators.csv", 2, "max_points", "36")
    real = cache.Deferred._load

    def rewritten_meanwhile(self):
        kept.set_cell("scores.csv", 2, "score", "1")
        for entry in _entries(kept):
            entry.unlink()
        return real(self)

    monkeypatch.setattr(cache.Deferred, "_load", rewritten_meanwhile)
    data = _load(kept)
    assert not isinstance(data.rows, contest_module.DeferredRows)
    assert _same(data, _uncached(kept, monkeypatch))


def test_the_sheet_in_use_stays_whole_and_the_least_recently_used_goes(kept, monkeypatch):
    """At most KEEP sheets (here 2), each with what is kept beside it; a sheet whose rows were
    deferred counts as used (its entry is not the first to go while its cells are used)."""
    import time

    from panel_tui.inputs.contest import DeferredRows

    monkeypatch.setattr(cache, "KEEP", 2)
    sheet = kept.path("scores.csv").read_bytes()
    for other in ("b.csv", "c.csv"):
        kept.path(other).write_bytes(sheet)  # (the same bytes at another path: another sheet)
    at = 'scores = "data/scores.csv"'

    def load(name: str):
        nonlocal at
        kept.edit_config(at, f'scores = "data/{name}"')
        at = f'scores = "data/{name}"'
        time.sleep(0.02)
        data = _load(kept)
        data.scores  # noqa: B018  (its rows asked for too: their entry kept)
        cache.wait_for_writes()
        return data

    def files_of(name: str) -> list[str]:
        prefix = cache._path_key(kept.path(name))
        return [p.name for p in (Path(os.environ["XDG_CACHE_HOME"]) / "panel-tui").glob(f"{prefix}-*")]

    load("scores.csv")
    load("b.csv")
    assert isinstance(load("scores.csv").rows, DeferredRows)  # (used last)
    load("c.csv")  # (a third sheet: b.csv's go, with what is kept beside it)
    assert len(_entries(kept)) == 2 and len(_entries(kept, "cells")) == 2 and len(_entries(kept, "evaluators")) == 2
    assert files_of("scores.csv") and files_of("c.csv") and not files_of("b.csv")
    loads = _entry_loads(monkeypatch)
    assert isinstance(load("scores.csv").rows, DeferredRows) and len(loads) == 1  # (its kept entry)


def test_a_screen_waiting_for_anothers_parse_goes_on_once_the_cells_are_kept(kept, monkeypatch):
    """Another process holds the file's lock (it parses the sheet, then writes its entry);
    this one, once the cells and evaluators for the same bytes are kept, goes on with its rows
    deferred instead of waiting for the lock (here: they were kept by an earlier read, and the
    file touched, so that its stat hint no longer matches)."""
    import time

    from panel_tui.inputs.contest import DeferredRows

    monkeypatch.setattr(cache, "LOCK_WAIT", 2.0)
    truth = _load(kept)
    sheet = kept.path("scores.csv")
    os.utime(sheet, (time.time() + 5, time.time() + 5))
    with _sheet_lock_held():  # ("another process" parsing)
        start = time.monotonic()
        data = _load(kept)
        waited = time.monotonic() - start
    assert isinstance(data.rows, DeferredRows) and waited < 1.0
    assert _same(data, truth)


def _sheet_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every read of a score sheet's bytes into memory ("read"), every hash of them ("hash") and
    every check of a claim ("check") by the cache from now on (``sheet_read_counters``)."""
    calls: list[str] = []
    for name, counting in sheet_read_counters(cache, calls).items():
        monkeypatch.setattr(cache, name, counting)
    return calls


def _sheet_arguments(files: ContestFiles):
    """What the loader asks the cache for the demo's score sheet: its path, spec and id lookups."""
    from panel_tui.inputs import contest

    config = load_config(files.config)
    indicators = contest._load_indicators(config, None)
    candidates = contest._load_candidates(config, None)
    return config.contest.scores, contest.SCORES, contest._id_lookups(config, candidates, indicators)


def _claim_as_the_holder(path: Path, content: bytes | None = None) -> None:
    """What a process holding the sheet's lock claims once it has read and hashed it (as
    ``cache._Claim`` writes it): the file's stat now, and the size and SHA-256 of its bytes
    (``content``: of other bytes, as if the file had changed in a way its stat does not show)."""
    import hashlib

    folder = cache.cache_folder()
    assert folder is not None
    data = path.read_bytes() if content is None else content
    claim = folder / (cache._path_key(path) + cache._CLAIM_SUFFIX)
    claim.write_text(
        f"{cache._stat_hint(os.stat(path))}\n{len(data)} {hashlib.sha256(data).hexdigest()}", encoding="ascii"
    )
    claim.chmod(0o600)


def _one_score_lower(files: ContestFiles) -> bytes:
    """The demo's score sheet with one score's last digit one lower: the same size, other bytes
    (``csv_bytes`` of its rows)."""
    rows = files.rows("scores.csv")
    column = rows[0].index("score")
    changed = next(i for i, row in enumerate(rows[1:], 1) if row[column][-1] in "123456789")
    score = rows[changed][column]
    rows[changed][column] = score[:-1] + str(int(score[-1]) - 1)
    return csv_bytes(rows, "utf-8")


@contextlib.contextmanager
def _sheet_lock_held() -> Iterator[None]:
    """The demo sheet's lock in the cache folder held for the block, as by another process of
    the account reading the sheet (flock sees each descriptor on its own)."""
    import fcntl

    (lock_file,) = (Path(os.environ["XDG_CACHE_HOME"]) / "panel-tui").glob("*.lock")
    with lock_file.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        yield


def test_a_screen_waiting_for_anothers_read_of_the_file_as_it_sees_it_neither_reads_nor_hashes_it(kept, monkeypatch):
    """Every screen of an account sees a new sheet at once; the one holding the file's lock
    reads it and claims it (its stat, then its entry's name). The others, whose descriptor of
    the file has that very stat, wait idle (the two cores stay with that read) and go on with
    the claimed entry once its cells are kept: they never read the file, nor hash it."""
    import time

    from panel_tui.inputs.contest import DeferredRows

    monkeypatch.setattr(cache, "LOCK_WAIT", 2.0)
    monkeypatch.setattr(cache, "_TAKES_CLAIMS", [True])  # (the console's processes: ``cache.take_claims``)
    truth = _load(kept)
    claim_checks_done()
    sheet = kept.path("scores.csv")
    os.utime(sheet, (time.time() + 5, time.time() + 5))  # (its stat hint no longer matches)
    time.sleep(0.05)  # (settled: what the holder checks before it claims, ``cache._settled``)
    _claim_as_the_holder(sheet)
    reads = _sheet_reads(monkeypatch)
    with _sheet_lock_held():  # ("another process" reading the sheet)
        start = time.monotonic()
        data = _load(kept)
        waited = time.monotonic() - start
    assert isinstance(data.rows, DeferredRows) and waited < 1.0
    assert reads == []
    # Once the other's read is over (the lock let go), the claim is checked: it holds.
    claim_checks_done()
    assert reads == ["check"] and cache.claims_refuted() == []
    assert _same(data, truth)


def test_a_claim_that_does_not_hold_is_found_out_and_the_file_read_again(kept, monkeypatch):
    """A claim is not a proof (writes through a shared mapping may leave the ctime as it was; a
    long write in place dates the file as it starts): here one names other bytes than the
    file's, under its very stat. The waiting screen goes on with it, then its own hash, once the
    other's read is over, refutes it (``claims_refuted``, which the console polls, then reads
    the file again); a console's next load reads the file as it is."""
    import time

    monkeypatch.setattr(cache, "LOCK_WAIT", 2.0)
    monkeypatch.setattr(cache, "_TAKES_CLAIMS", [True])
    old = _load(kept)
    claim_checks_done()  # (its own read checked, before the file changes below)
    assert cache.claims_refuted() == []
    sheet = kept.path("scores.csv")
    old_bytes = sheet.read_bytes()
    sheet.write_bytes(_one_score_lower(kept))
    time.sleep(0.05)
    _claim_as_the_holder(sheet, old_bytes)  # (the old bytes claimed under the new stat)
    with _sheet_lock_held():
        taken = _load(kept)
        assert _plain(taken.cells).equals(_plain(old.cells))  # (the claim, taken)
        time.sleep(0.3)
        assert cache.claims_refuted() == []  # (not checked while the other's read goes on)
    claim_checks_done()
    assert cache.claims_refuted() == [sheet]
    assert cache.claims_refuted() == []  # (said once)
    fresh = _plain(load_contest(load_config(kept.config), fresh=True).cells)
    # The holder still holds its lock (stopped, say) and its claim is still there: this process
    # never takes that claim again, it reads the file itself.
    reads = _sheet_reads(monkeypatch)
    with _sheet_lock_held():
        again = _load(kept)
    assert reads[:2] == ["read", "hash"]
    assert _plain(again.cells).equals(fresh)
    claim_checks_done()
    assert cache.claims_refuted() == []


def test_a_consoles_own_read_of_a_new_sheet_is_checked_once_it_is_over(kept, monkeypatch):
    """A long write in place dates the file as it starts: a read under a settled stat may still
    see part of it. A console (``take_claims``) that read a new sheet itself hashes the file
    again once its read is over, at the lowest priority; bytes other than those it read make it
    read the file again (here its read is made to see other bytes than the file's)."""
    monkeypatch.setattr(cache, "_TAKES_CLAIMS", [True])
    sheet = kept.path("scores.csv")
    on_disk = sheet.read_bytes()
    torn = _one_score_lower(kept)
    assert len(torn) == len(on_disk) and torn != on_disk
    read_bytes = cache.read_bytes

    def reading(path, handle, limit=-1, *, start=None):
        data = read_bytes(path, handle, limit, start=start)
        return torn if data == on_disk else data

    monkeypatch.setattr(cache, "read_bytes", reading)
    seen = _load(kept)
    monkeypatch.setattr(cache, "read_bytes", read_bytes)
    claim_checks_done()
    assert cache.claims_refuted() == [sheet]
    # Read as it is (the torn read was never on disk): the boards the console shows next.
    again = _load(kept)
    fresh = _plain(load_contest(load_config(kept.config), fresh=True).cells)
    assert not _plain(seen.cells).equals(fresh) and _plain(again.cells).equals(fresh)
    claim_checks_done()
    assert cache.claims_refuted() == []


def test_a_process_that_does_not_take_claims_reads_and_hashes_the_file_itself(kept, monkeypatch):
    """The command line (``rank``, ``validate``) never takes a claim: its output rests on its own
    read of the file, hashed while it waits for the other's."""
    import time

    monkeypatch.setattr(cache, "LOCK_WAIT", 2.0)
    monkeypatch.setattr(cache, "_TAKES_CLAIMS", [False])
    truth = _load(kept)
    sheet = kept.path("scores.csv")
    os.utime(sheet, (time.time() + 5, time.time() + 5))
    time.sleep(0.05)
    _claim_as_the_holder(sheet)
    reads = _sheet_reads(monkeypatch)
    with _sheet_lock_held():
        data = _load(kept)
    assert reads == ["read", "hash"]
    assert _same(data, truth)


def test_a_claim_of_the_file_before_a_rewrite_of_the_same_size_and_mtime_is_not_taken(kept, monkeypatch):
    """The claim names the file by its stat, ctime included: rewritten in place after it, with
    the same size and its mtime put back, the file has another ctime. A waiting screen then
    reads and hashes it itself, and shows the new scores, never the claimed ones."""
    import time

    monkeypatch.setattr(cache, "LOCK_WAIT", 1.0)
    monkeypatch.setattr(cache, "_TAKES_CLAIMS", [True])
    old = _load(kept)
    claim_checks_done()
    sheet = kept.path("scores.csv")
    os.utime(sheet, (time.time() + 5, time.time() + 5))
    time.sleep(0.05)
    _claim_as_the_holder(sheet)
    before = os.stat(sheet)
    with sheet.open("r+b") as handle:  # (in place: the same inode)
        handle.write(_one_score_lower(kept))
    os.utime(sheet, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(sheet)
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (before.st_ino, before.st_size, before.st_mtime_ns)
    reads = _sheet_reads(monkeypatch)
    with _sheet_lock_held():
        data = _load(kept)
    assert "read" in reads and "hash" in reads
    assert _same(data, load_contest(load_config(kept.config), fresh=True))
    assert not _plain(data.cells).equals(_plain(old.cells))


def test_the_holder_of_the_lock_claims_the_file_only_when_its_read_is_settled(cached, monkeypatch):
    """``cache._Bytes`` with a claim (the process holding the file's lock): "reading" with the
    file's stat before the read; once read and hashed, the name of its bytes' entry, but only
    when the file's last change is older than the read by more than the clock's step (else
    "cannot claim", and the others read it themselves); a claim of another stat is none."""
    import time

    path, spec, lookups = _sheet_arguments(cached)
    folder = cache.cache_folder()
    assert folder is not None
    directory = cache._open_folder(folder)
    assert directory is not None
    prefix = cache._path_key(path)
    try:
        time.sleep(0.05)
        with path.open("rb") as handle:
            st = os.fstat(handle.fileno())
            cache._Claim(directory, prefix).write(st, cache._READING)
            assert cache._claimed(directory, prefix, st) is True
            read = cache._Bytes(path, handle, cache._Claim(directory, prefix))
            digest = read.hashing.result()
            assert cache._claimed(directory, prefix, os.fstat(handle.fileno())) == (len(read.data), digest)
        # Changed since (its ctime): the claim is of another file.
        os.chmod(path, 0o644)
        assert cache._claimed(directory, prefix, os.stat(path)) is None
        # Changed just before the read: not settled, not claimed.
        monkeypatch.setattr(cache, "SETTLED_NS", 10**12)
        monkeypatch.setattr(cache, "COARSE_SETTLED_NS", 10**12)
        with path.open("rb") as handle:
            read = cache._Bytes(path, handle, cache._Claim(directory, prefix))
            read.hashing.result()
            assert cache._claimed(directory, prefix, os.fstat(handle.fileno())) is False
    finally:
        os.close(directory)


@pytest.mark.parametrize(
    ("ctime_ns", "started_ns", "settled"),
    [
        (10_000_000_123, 10_030_000_000, True),  # 30 ms before the read, nanoseconds kept
        (10_000_000_123, 10_020_000_000, False),  # 20 ms: within the coarse clock's reach
        (10_000_000_000, 10_900_000_000, False),  # whole seconds kept (a coarse filesystem): 0.9 s
        (10_000_000_000, 13_000_000_000, True),  # 3 s
        (10_000_000_123, 9_000_000_000, False),  # a change dated after the read (another clock)
    ],
)
def test_a_read_is_settled_only_well_after_the_files_last_change(ctime_ns, started_ns, settled):
    fields = [0o100600, 1, 2, 1, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0, ctime_ns]
    st = os.stat_result(fields)  # (st_ctime_ns is the 16th field)
    assert st.st_ctime_ns == ctime_ns
    assert cache._settled(st, st, started_ns) is settled
    moved = os.stat_result([*fields[:6], 101, *fields[7:]])  # (its size moved during the read)
    assert cache._settled(st, moved, started_ns) is False


_WAITING_SCREEN = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from conftest import claim_checks_done, sheet_read_counters
from panel_tui.config import load_config
from panel_tui.inputs import cache, contest, load_contest
cache.MIN_SIZE = 0
cache.take_claims()  # (as the console does)
calls = []
for name, counting in sheet_read_counters(cache, calls).items():
    setattr(cache, name, counting)
stream = contest._streamed_sheet
def slowly(*args, **kwargs):  # (the one that reads takes its time: the others find the lock held)
    time.sleep(1.0)
    return stream(*args, **kwargs)
contest._streamed_sheet = slowly
print("ready", flush=True)
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.005)
data = load_contest(load_config(Path(sys.argv[1])))
cache.wait_for_writes()
claim_checks_done(30.0)
counts = [calls.count(kind) for kind in ("read", "hash", "check")]
print(*counts, data.cells.height, len(cache.claims_refuted()), flush=True)
"""


def test_of_three_screens_seeing_a_new_sheet_one_reads_and_hashes_it(kept, tmp_path):
    """Three processes of the account (three served tabs) load a sheet none has seen, at the
    same time: one reads and hashes it; the other two take its claim and its kept cells while
    it reads (and check the claim, by their own hash, only once its read is over)."""
    import time

    time.sleep(0.05)  # (the sheet settled)
    go = tmp_path / "go"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _WAITING_SCREEN, str(kept.config), str(go), str(Path(__file__).parent)],
            stdout=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        for _ in range(3)
    ]
    try:
        for child in children:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        go.touch()
        outcomes = []
        for child in children:
            out, _err = child.communicate(timeout=60)
            assert child.returncode == 0
            outcomes.append(tuple(int(n) for n in out.split()))
    finally:
        for child in children:
            child.kill()
            child.wait()
    truth = load_contest(load_config(kept.config), fresh=True)
    height = truth.cells.height
    assert sorted(outcomes) == [(0, 0, 1, height, 0)] * 2 + [(1, 1, 1, height, 0)]  # (each checks once, after)


def test_a_parse_lets_go_of_the_files_lock_once_what_is_kept_beside_it_is_written(kept, monkeypatch):
    """The processes waiting for another's parse of a new sheet (every screen of an account saw
    it change) go on once its cells and evaluators are written too, not only its rows: they
    then load the cells, not the rows (here the cells are written slowly)."""
    import time

    store, release = cache._store, cache._release
    seen: list[tuple[int, int]] = []

    def slow(directory, name, frame, hint):
        if "+" in name:
            time.sleep(0.3)
        store(directory, name, frame, hint)

    def releasing(directory, lock):
        if lock is not None:
            seen.append((len(_entries(kept, "cells")), len(_entries(kept, "evaluators"))))
        release(directory, lock)

    monkeypatch.setattr(cache, "_store", slow)
    monkeypatch.setattr(cache, "_release", releasing)
    with cache.writes_afterwards():
        load_contest(load_config(kept.config))
    cache.wait_for_writes()
    assert seen == [(1, 1)]


def test_a_parses_cells_and_evaluators_are_written_before_its_rows(kept, monkeypatch):
    """The processes waiting for another's parse go on once its cells and evaluators are kept:
    those are written first, the rows (larger) after them, not beside them
    (here the cells are written slowly: the rows wait for them)."""
    import time

    store = cache._store
    events: list[tuple[str, str]] = []

    def logged(directory, name, frame, hint):
        kind = "beside" if "+" in name else "rows"
        events.append(("start", kind))
        if kind == "beside":
            time.sleep(0.2)
        store(directory, name, frame, hint)
        events.append(("end", kind))

    monkeypatch.setattr(cache, "_store", logged)
    monkeypatch.setattr(
        "panel_tui.inputs.contest._streamed_sheet", lambda *args, **kwargs: None
    )  # (parsed, as a sheet the stream declines)
    with cache.writes_afterwards():
        load_contest(load_config(kept.config))
    cache.wait_for_writes()
    rows_start = events.index(("start", "rows"))
    assert events.count(("end", "beside")) == 2  # (the cells, the evaluators)
    assert all(events.index(e) < rows_start for e in events if e == ("end", "beside"))


def test_the_readers_key_covers_every_module_it_takes_a_check_from():
    """READER hashes the reader's code: every module of the package that read.py and
    formulas.py import (but those that only word messages or open files, which run anyway)."""
    import ast

    package = Path(cache.__file__).resolve().parent.parent
    imported = set()
    for module in ("inputs/read.py", "inputs/formulas.py"):
        tree = ast.parse((package / module).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("panel_tui."):
                imported.add(node.module.removeprefix("panel_tui.").replace(".", "/") + ".py")
    messages_only = {"errors.py", "i18n.py", "config.py"}  # (config: open_regular runs on every read)
    assert imported - messages_only <= set(cache._READER_FILES)
