"""A per-account cache of parsed score sheets, so that an unchanged file is parsed once.

The console, ``rank``, ``validate`` and every served tab read the same score sheet; at 10,000
candidates parsing and checking it costs about half a second (CSV; Parquet's id casts about
as much). ``cached_table`` parses a file once and keeps the typed, checked frame as an Arrow
IPC file (LZ4-compressed); any later read of the same bytes, by any process of the same
account, loads that instead (bench/README.md measures both).

What makes it safe:

- **Keyed by the content.** The key is the SHA-256 of the very bytes that are parsed (read
  once into memory, hashed, then parsed from that buffer: a file rewritten between the hash
  and the parse cannot be stored under the wrong key), with their size, the reader's version,
  polars' version, the table's spec and the known candidate and indicator ids (the ``Enum``
  types the frame holds). A rewritten file with the same size and mtime has other bytes, so
  another key: stale data is never served. (The mtime is not part of the key: it adds
  nothing once the bytes are hashed, and would only make an identical copy miss.)
- **Per account, never shared.** Entries live under ``$XDG_CACHE_HOME/panel-tui`` (else
  ``~/.cache/panel-tui``), a folder made 0700. An entry is trusted only when the folder and
  the file are owned by this process's effective user, are not reachable by group or others
  (mode & 077 == 0), the file is a regular file with one link, opened without following
  links, relative to the folder's descriptor. A group member who could write a forged entry
  would plant wrong scores without touching the scores file; in a shared folder they could,
  so nothing is shared: each account parses a file once. (Verifying a shared entry would need
  the parse it saves, or a key every member holds.) Root and the account itself can write
  the cache; both can change the scores file anyway.
- **Written atomically and checked**: into a temporary file of the folder (0600), renamed
  over the entry; a reader sees an old entry, a new one or none. The SHA-256 of the entry's
  bytes is kept beside it and checked before they are parsed (Arrow IPC has no checksum: one
  flipped byte loaded and changed a score); a damaged entry, or one polars cannot read (it
  may even panic), is removed and the file parsed as if there were none. Not synced to disk:
  after a crash an entry whose bytes did not reach the disk fails that check like any damaged
  one (the file is parsed again), so a sync would only cost the boards waiting for it (the
  console's, and the other screens', 0.03 s to 0.2 s a write on two cores).
- **The reader's own code is in the key** (``READER``): an entry a different reader made is
  never used, so a fix to a check cannot be bypassed by an older entry.
- **Never for what becomes public**: the lock, its confirmation and ``verify`` parse the
  files themselves (``load_contest(fresh=True)``); the cache serves the boards, ``rank`` and
  the display.
- **Checked on load**: the frame's columns and types must be the ones the parse gives
  (the ``Enum`` ids equal to the known ids), else it is a miss.
- **One parse at a time**: a process that misses holds an exclusive ``flock`` on the key's
  lock file while it parses and writes; another process of the account asking for the same
  bytes waits for it (``LOCK_WAIT`` seconds at most: the holder may be stopped) and then loads
  the entry instead of parsing too, its own copy of the bytes read and hashed while it waits.
  Except in a console (``take_claims``): there it reads and hashes nothing while the holder
  reads (the cores stay with that read) when the holder claims the file as this process sees
  it (``_Claim``: the file's stat, ctime included, and the size and SHA-256 of the bytes it
  read, claimed only when that read was settled, ``_settled``: Git's rule for "racily clean"
  files). It goes on with the entry those name, and checks the claim by its own hash of the
  file once the holder's read is over (``_check_claim``, at the lowest priority): the rule is
  not a proof (writes through a shared mapping may leave the ctime as it was; a long write in
  place dates the file as it starts, and a read may see part of it), and a claim found wrong
  makes the console read the file again (``claims_refuted``). The command line never takes a
  claim: what it prints rests on its own read.
- **Every screen's boards first**: a console computing boards from a cached file (inside
  ``writes_afterwards``) holds a shared lock on the file's loading mark until they are
  computed, and the console (the tui's ``reload``) until they are painted on its screen;
  ``others_loading`` tells the account's other consoles and served tabs, whose
  robustness analyses (seconds of both cores at 10,000 candidates) wait meanwhile, a few
  seconds at most. A mark is only ever a reason to wait a little, never data.
- **What is computed from a sheet, kept beside it** (``cached_derived``: its cells, its
  evaluators, the analysis's per-area statistics): under a key of the sheet's entry and
  everything else the computation reads (the other files' contents, the settings, the code),
  checked and written like a sheet's entry, and dropped with it.
- **Rows only when asked for** (``cached_entry(..., deferred=True)``): once the file's bytes
  are hashed to an entry that is there, the loader may take a ``Deferred`` instead of the rows
  (``inputs.contest``: when the cells and evaluators are kept too, the boards and ``rank``
  need no rows). Loading it later checks the entry as any load does; an entry gone by then
  is a miss, and the file is used only if its bytes still hash to that entry. A process
  waiting for another's parse of the same bytes takes its ``Deferred`` as soon as what it
  needs beside the entry is kept (``ready``), before the entry itself is written.
- **A new sheet sketched, not parsed** (``cached_entry(..., sketch=...)``): on a miss, the
  loader may reduce the bytes it hashed to what it needs (``inputs.contest``: the sheet's
  cells, streamed) and keep that beside the entry the bytes name; the rows are parsed, from
  the file if it still hashes to that name, and their entry kept, only when something asks
  for them (the analysis). The stat hint is written once what was kept is written, and the
  file's lock let go of then: the processes waiting for it take what was kept.
- **Bounded**: one entry per scores file path (a new version replaces the old one, and the
  frames derived from it), and at most ``KEEP`` sheets in all, the least recently used
  removed first; the temporary files of writers that were killed go too.

Small files (under ``MIN_SIZE``) are parsed every time: hashing and loading would cost
about what parsing does. (A Parquet sheet is kept too: hashing its few compressed bytes
costs little, and its entry and cells load faster than its ids are cast and its rows
grouped; bench/README.md.) ``PANEL_TUI_CACHE=off`` turns the cache off
(the benchmark's cold runs); any other value is ignored.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import os
import re
import stat
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import polars as pl

from panel_tui.config import open_regular
from panel_tui.errors import InputError
from panel_tui.i18n import _
from panel_tui.inputs.read import Lookup, TableSpec, read_bytes, read_table

# The entry's layout: a checksum beside each entry since 2; LZ4 frames since 3; the checksum
# over the entry's name and bytes since 4.
CACHE_VERSION = "4"
# The reader's own code is part of every key: a fix to what it accepts or how it types a column
# must never meet an entry an older reader made (two installs on one host share the folder).
# Every module of the package the reader takes a check from (tests/test_cache.py checks the list
# against read.py's and formulas.py's imports), relative to the package.
_READER_FILES = ("inputs/read.py", "inputs/formulas.py", "inputs/cache.py", "text.py")
LOCK_WAIT = 5.0  # seconds a process waits for another one parsing the same file, then parses itself
MIN_SIZE = 1 << 20  # bytes: smaller files are parsed every time
KEEP = 6  # sheets kept per account, each with the frames kept beside it (``_evict``)
_SUFFIX = ".arrow"
_LOCK_SUFFIX = ".lock"
_DERIVED_LOCK = ".derived"  # + _LOCK_SUFFIX: a file's lock for ``cached_derived(one_at_a_time=True)``
_LOADING_SUFFIX = ".loading"  # held shared by each console computing boards from the file
_PLACED_SUFFIX = ".placed"  # beside a sheet's entry: held shared by each process holding its scores as streamed
_HINT_SUFFIX = ".stat"
_CLAIM_SUFFIX = ".claim"  # what the holder of a file's lock claims of the file it reads (``_Claim``)
_SUM_SUFFIX = ".sha256"
_DERIVED = "+"  # between a table's entry name and a derived frame's key (``cached_derived``)
_WRITERS: list[threading.Thread] = []
_BESIDE: list[threading.Thread] = []  # the writers of frames kept beside an entry (``cached_derived``)


def _reader_digest() -> str:
    digest = hashlib.sha256()
    here = Path(__file__).parent.parent
    for name in _READER_FILES:
        with contextlib.suppress(OSError):
            digest.update((here / name).read_bytes())
        digest.update(b"\x00")
    return digest.hexdigest()


READER = _reader_digest()


def cache_folder() -> Path | None:
    """Where this account's entries live, or None when the cache is off."""
    if os.environ.get("PANEL_TUI_CACHE", "").lower() == "off":
        return None
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not base or not os.path.isabs(base):  # the XDG rule: a relative value is ignored
        home = os.path.expanduser("~")
        if not os.path.isabs(home):
            return None
        base = os.path.join(home, ".cache")
    return Path(base) / "panel-tui"


def cached_table(path: Path, spec: TableSpec, lookups: dict[str, Lookup]) -> pl.DataFrame:
    """``read_table(path, spec, lookups)``, from the cache when these bytes were parsed before
    (``cached_entry``)."""
    frame = cached_entry(path, spec, lookups)[0]
    assert isinstance(frame, pl.DataFrame)
    return frame


def cached_entry(
    path: Path,
    spec: TableSpec,
    lookups: dict[str, Lookup],
    *,
    deferred: bool = False,
    ready: Callable[[str], bool] | None = None,
    sketch: Callable[[bytes, Callable[[], str | None]], bool] | None = None,
    keep: Callable[[str, bytes | None], None] | None = None,
) -> tuple[pl.DataFrame | Deferred, str | None]:
    """``read_table(path, spec, lookups)``, from the cache when these bytes were parsed before,
    and the name of the entry that holds them (for ``cached_derived``; None when the file is
    not cached: the cache off, a small file). ``deferred``: when an entry holds these bytes,
    it is not loaded yet: a ``Deferred`` loads it when called (a caller that finds what it
    needs kept beside the entry, its cells, may never need the rows). ``ready`` (with
    ``deferred``): whether what the caller needs beside the entry of that name is kept; while
    another process parses the same bytes, this one goes on with a ``Deferred`` as soon as it
    is, without waiting for that process's entry to be written. ``sketch`` (with ``ready``): on
    a miss, instead of the rows, the caller reduces the file's bytes (given them, and how to
    get the entry's name) to what it needs and keeps that beside the entry (``cached_derived``;
    ``inputs.contest``: the sheet's cells, streamed); when it does (True), a ``Deferred`` is
    returned whose rows are parsed, and kept, only when first asked for. With the cache off,
    a file of ``MIN_SIZE`` or more is sketched too (no entry: the name is None), its
    ``Deferred`` holding the bytes it parses when first called.

    ``keep`` (a console, which patches the next sheet from this one: ``inputs.contest``): given
    the entry's name and the file's bytes, read into memory and hashed to that very name,
    whenever the entry is found rather than sketched: the file hashed as it is read whole,
    the bytes read while waiting for another process, or (a claim taken) those the claim's
    check reads afterwards, in its thread (None instead when the check refutes the claim).

    Two routes, both deciding by the SHA-256 of the content (its own; in a console, that of a
    settled read by the process it waits for, checked afterwards: ``_Claim``), never by the
    file's dates alone:

    - the file's (inode, size, mtime, ctime) are those recorded when an entry was last written
      for this path (a hint, nothing more): its content is hashed as it is read (about a fifth
      of the parse), in a thread, while the entry the hint names is loaded; that entry is
      used only if the hash gives its very name (else the entry these bytes name, if any);
    - otherwise (or when that hash finds no entry) the file is read once into memory and, under
      the file's lock, parsed from those very bytes while they are hashed (and claimed for the
      processes waiting, ``_Claim``), and the result stored under their hash (in a thread,
      while the caller ranks: ``wait_for_writes`` at exit; inside ``writes_afterwards``, once
      the caller's block ends). When the lock was
      held by another process that stored an entry for the file as it is now (the hint again),
      that entry is loaded instead, if it holds these bytes.
    """
    folder = cache_folder()
    if folder is None:
        if sketch is not None:
            return _sketched(path, spec, lookups, sketch)
        return read_table(path, spec, lookups), None
    with open_regular(path, spec.label) as handle:
        st = os.fstat(handle.fileno())
        if st.st_size < MIN_SIZE:
            return read_table(path, spec, lookups), None
        directory = _open_folder(folder)
        if directory is None:
            if sketch is not None:
                return _sketched(path, spec, lookups, sketch)
            return read_table(path, spec, lookups), None
        prefix = _path_key(path)
        _mark_loading(directory, prefix)
        try:
            seen, named = _hint(directory, prefix)
            if seen == _stat_hint(st):
                # The file is hashed in a thread while the entry last written for it is loaded;
                # the entry is kept only if these bytes hash to its very name.
                whole: list[bytes] = []  # (``keep``: the bytes hashed)
                hashing = _Hash(lambda: _file_sha256(path, handle, whole if keep is not None else None))
                found = _load(directory, named, spec, lookups) if named and not deferred else None
                name = _entry_name(prefix, path, spec, lookups, st.st_size, hashing.result())
                if deferred and (_present(directory, name) or (ready is not None and ready(name))):
                    os.close(directory)
                    _offer(keep, name, whole)
                    return Deferred(path, spec, lookups, name), name
                if name != named or deferred:
                    found = _load(directory, name, spec, lookups)
                if found is not None:
                    os.close(directory)
                    _offer(keep, name, whole)
                    return found, name
            # A miss. The process that takes the file's lock reads it; the others of the
            # account wait, idle while that one has claimed the file as they see it
            # (``_Claim``), else reading and hashing their own copy meanwhile.
            lock, read, kept = _lock_or_wait(
                path, handle, directory, prefix, spec, lookups, ready if deferred else None, keep
            )
            if kept is not None:
                _release(directory, lock)
                _offer(keep, kept, [read.data] if read is not None else [])  # (its own bytes, hashed to that name)
                return Deferred(path, spec, lookups, kept), kept
            if read is None:
                read = _Bytes(path, handle, _Claim(directory, prefix) if lock is not None else None)
        except BaseException:
            os.close(directory)
            raise
    data, st, hashing = read.data, read.st, read.hashing
    del read
    size = len(data)
    try:
        if _hint(directory, prefix)[0] == _stat_hint(st):
            # Another process stored an entry for the file as it is now while this one waited
            # for the lock (it was parsing the same new file): load it, if it holds these
            # bytes. Loading needs no lock (an entry is renamed into place whole), so it is
            # let go at once: the other processes waiting for it load at the same time.
            _unlock(lock)
            lock = None
            digest = hashing.result()
            name = _entry_name(prefix, path, spec, lookups, len(data), digest)
            if deferred and (_present(directory, name) or (ready is not None and ready(name))):
                _release(directory, lock)
                _offer(keep, name, [data])
                return Deferred(path, spec, lookups, name), name
            found = _load(directory, name, spec, lookups)
            if found is not None:
                _release(directory, lock)
                _offer(keep, name, [data])
                return found, name
            lock = _lock(directory, prefix)
            frame = read_table(path, spec, lookups, data=data)
        else:
            named_by_hash = functools.cache(lambda: _entry_name(prefix, path, spec, lookups, size, hashing.result()))
            if sketch is not None and sketch(data, named_by_hash):
                name = named_by_hash()
                if _TAKES_CLAIMS[0]:  # (a console checks its own read too, once it is over)
                    _check_claim(path, spec, lookups, name, os.dup(directory), prefix)
                # The lock is let go of once what the sketch kept is written (the processes
                # waiting for it go on then), with the hint that names the entry to come.
                _write_later(directory, lock, name, None, _stat_hint(st))
                return Deferred(path, spec, lookups, name), name
            frame = read_table(path, spec, lookups, data=data)
            digest = hashing.result()
    except BaseException:
        _release(directory, lock)
        raise
    name = _entry_name(prefix, path, spec, lookups, len(data), digest)
    del data
    _write_later(directory, lock, name, frame, _stat_hint(st))
    return frame, name


# How much older than the start of a read a file's last change (its ctime) must be for the read
# to be claimed (``_settled``): more than the kernel's coarse clock, which dates the changes, can
# lag the clock that dates the read (one tick: 10 ms at 100 Hz, the slowest Linux ticks); on a
# filesystem that keeps whole milliseconds or coarser (FAT: two seconds), more than its step.
SETTLED_NS = 25_000_000
COARSE_SETTLED_NS = 2_500_000_000
# Seconds a process waiting for another's read of the same file gives it to claim the file as
# this one sees it (it writes its claim as it takes the lock, so at once), before reading and
# hashing the file itself (the holder may be another version of panel-tui, which claims nothing).
CLAIM_GRACE = 0.3
_READING, _UNSETTLED = "reading", "unsettled"
_TAKES_CLAIMS = [False]  # (``take_claims``: the console's processes, which check them afterwards)
_REFUTED: list[Path] = []  # files whose claim a check found wrong (``claims_refuted``), under _CHECKS
_REFUTED_CLAIMS: set[tuple[str, int, str]] = set()  # (stat, size, SHA-256) found wrong: never taken again
_CHECKS = threading.Lock()


def take_claims() -> None:
    """From now on this process, when it waits for another's read of a new score sheet, goes on
    with what that one claims (``_Claim``) rather than read and hash the file beside that read,
    and checks the claim afterwards, by its own hash of the file once that read is over; a
    claim found wrong is named by ``claims_refuted``. For the console, which shows boards and
    asks at each look: the command line's outputs rest on their own reads."""
    _TAKES_CLAIMS[0] = True


def claims_refuted() -> list[Path]:
    """The files whose claim, taken since last asked, was found not to hold (the file's bytes
    hash to another entry): the caller reads them again."""
    with _CHECKS:
        refuted = list(dict.fromkeys(_REFUTED))
        _REFUTED.clear()
    return refuted


def _settled(before: os.stat_result, after: os.stat_result, started_ns: int) -> bool:
    """Whether a file read between its stat ``before`` and its stat ``after``, the read begun at
    ``started_ns`` (``time.time_ns()``), may be claimed: the stat did not move during the read,
    and the file's last change (its ctime, which a write, truncation, rename or ``utime`` sets
    to the time of the change, and no one but root can set back) is older than the read by more
    than the step of the clock that dates changes, so that a change after the read gives the
    file another stat (Git's rule for its index, "racily clean" entries). Not a proof: writes
    through a shared mapping may leave the ctime as it was, and a long write in place dates the
    file as it starts, so a read may see part of it; a claim is therefore checked afterwards by
    every process that takes it (``take_claims``)."""
    if _stat_hint(before) != _stat_hint(after):
        return False
    ctime = after.st_ctime_ns
    step = COARSE_SETTLED_NS if ctime % 1_000_000 == 0 else SETTLED_NS
    return ctime + step < started_ns


class _Claim:
    """What the process holding a file's lock tells the account's others waiting for it, in a
    small file of the cache folder beside the lock (checked like an entry: this account's own,
    no other account can write it): the file's stat as it reads it (``_stat_hint``) and
    ``_READING`` while it reads; then, when the read is settled (``_settled``), the size and
    SHA-256 of the bytes it read, else ``_UNSETTLED``. A waiting process that takes claims
    (``take_claims``), whose own descriptor of the file has that very stat, then reads and
    hashes nothing while that read goes on (the cores stay with it): it names the entry by the
    claimed hash, and checks it by its own once the read is over. Written atomically; a write
    that fails claims nothing (the others then read and hash the file themselves)."""

    def __init__(self, directory: int, prefix: str) -> None:
        self._directory = os.dup(directory)  # (its own: the hash's thread may write after the caller let go)
        self._prefix = prefix

    def write(self, st: os.stat_result, state: str) -> None:
        with contextlib.suppress(OSError):
            _write_small(self._directory, self._prefix + _CLAIM_SUFFIX, f"{_stat_hint(st)}\n{state}".encode("ascii"))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._directory)


def _claimed(directory: int, prefix: str, st: os.stat_result) -> tuple[int, str] | bool | None:
    """What the holder of the file's lock claims of the file as ``st`` describes it
    (``_Claim``): the size and SHA-256 of its bytes; True: wait, it is reading them; False: it
    cannot claim them, or claimed them before and a check found it wrong (read them yourself);
    None: no claim of the file as it is now."""
    data = _read_small(directory, prefix + _CLAIM_SUFFIX)
    if data is None:
        return None
    seen, _newline, state = data.decode("ascii", "replace").partition("\n")
    if seen != _stat_hint(st):
        return None
    if state == _READING:
        return True
    found = re.fullmatch(r"([0-9]{1,15}) ([0-9a-f]{64})", state)
    if not found or int(found[1]) != st.st_size:
        return False
    with _CHECKS:
        if (seen, int(found[1]), found[2]) in _REFUTED_CLAIMS:
            return False
    return int(found[1]), found[2]


class _Bytes:
    """A file's bytes, read into memory, and its stat once read (``st``); hashed from then on
    in a thread (``hashing``). ``claim`` (the caller holds the file's lock): claimed as read
    (``_Claim``)."""

    def __init__(self, path: Path, handle: BinaryIO, claim: _Claim | None = None) -> None:
        before = os.fstat(handle.fileno())
        if claim is not None:
            claim.write(before, _READING)
        started = time.time_ns()
        try:
            data = read_bytes(path, handle, start=0)
        except BaseException:
            if claim is not None:
                claim.close()
            raise
        self.data = data
        self.st = st = os.fstat(handle.fileno())
        if claim is not None and not _settled(before, st, started):
            claim.write(st, _UNSETTLED)
            claim.close()
            claim = None
        if claim is None:
            self.hashing = _Hash(functools.partial(_sha256, data))
            return

        def claimed() -> str:  # (in the hash's thread: the others go on as soon as it is done)
            try:
                digest = _sha256(data)
                claim.write(st, f"{len(data)} {digest}")
            finally:
                claim.close()
            return digest

        self.hashing = _Hash(claimed)


def _check_claim(
    path: Path,
    spec: TableSpec,
    lookups: dict[str, Lookup],
    name: str,
    directory: int,
    prefix: str,
    claim: tuple[str, int, str] | None = None,
    keep: Callable[[str, bytes | None], None] | None = None,
) -> None:
    """In a thread, once the holder of the file's lock let go of it (its read is over: the cores
    are free), at the lowest priority: hash the file as it is now; a name other than the
    claimed one (``name``) puts the file in ``claims_refuted``, and the ``claim`` (its stat,
    size and hash) among those this process never takes again (a holder stopped with its lock
    held would otherwise hand the same claim to every reload); the claimed name, with the
    bytes read whole and hashed to it, is given to ``keep`` (``cached_entry``). The console's
    own read of a new sheet is checked the same way (no ``claim``): a long write in place may
    have been read half done under a settled stat. (A file changed since in any way the stat shows is read again
    anyway: then this only asks for that a moment sooner.)"""

    def check() -> None:
        try:
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)  # (Linux: this thread only)
            deadline = time.monotonic() + 4 * LOCK_WAIT
            while time.monotonic() < deadline and _held(directory, prefix + _LOCK_SUFFIX):
                time.sleep(0.05)  # (the holder still reads, or writes what it read)
            whole: list[bytes] = []
            try:
                with open_regular(path, spec.label) as handle:
                    size = os.fstat(handle.fileno()).st_size
                    digest = _file_sha256(path, handle, whole if keep is not None else None)
                    size = len(whole[0]) if whole else size
                held = _entry_name(prefix, path, spec, lookups, size, digest) == name
            except InputError:
                held = False
            if held:
                _offer(keep, name, whole)
            if not held:
                if keep is not None:
                    keep(name, None)  # (no bytes will come under that name: whoever waits for them is told)
                with _CHECKS:
                    _REFUTED.append(path)
                    if claim is not None:
                        _REFUTED_CLAIMS.add(claim)
        finally:
            with contextlib.suppress(OSError):
                os.close(directory)

    threading.Thread(target=check, name="panel-tui claim check", daemon=True).start()


def _lock_or_wait(
    path: Path,
    handle: BinaryIO,
    directory: int,
    prefix: str,
    spec: TableSpec,
    lookups: dict[str, Lookup],
    ready: Callable[[str], bool] | None,
    keep: Callable[[str, bytes | None], None] | None = None,
) -> tuple[int | None, _Bytes | None, str | None]:
    """On a miss: the file's lock (None: none to be had, or waited for ``LOCK_WAIT``
    seconds), the file's bytes if they were read while waiting for it, and the name of the
    entry of the file's bytes when the caller can go on without the lock (``ready``: what it
    needs beside that entry is kept). While another process holds the lock, this one reads and
    hashes its own copy meanwhile; or, when it takes claims (``take_claims``), waits idle as
    long as that process claims the file as this one sees it (``_Claim``), names the entry by
    the claimed hash, and checks it afterwards (``_check_claim``); without a claim after
    ``CLAIM_GRACE`` seconds, or with one it cannot take, it reads and hashes its own."""
    own: list[_Bytes] = []
    kept: list[str] = []
    names: list[str] = []
    taken: list[tuple[str, int, str]] = []
    since: list[float] = []  # (when this process found the lock held: ``done``'s first call)

    def done() -> bool:  # (asked by ``_lock`` at every look while another process holds the lock)
        if not since:
            since.append(time.monotonic())
            if ready is None or not _TAKES_CLAIMS[0]:
                own.append(_Bytes(path, handle))
        if ready is None:
            return False
        if not names:
            if not own:
                st = os.fstat(handle.fileno())
                claimed = _claimed(directory, prefix, st)
                if isinstance(claimed, tuple):
                    taken.append((_stat_hint(st), *claimed))
                    names.append(_entry_name(prefix, path, spec, lookups, *claimed))
                elif claimed is True or (claimed is None and time.monotonic() - since[0] < CLAIM_GRACE):
                    return False
                else:
                    own.append(_Bytes(path, handle))
            if not names:
                names.append(_entry_name(prefix, path, spec, lookups, len(own[0].data), own[0].hashing.result()))
        if ready(names[0]):
            kept.append(names[0])
        return bool(kept)

    lock = _lock(directory, prefix, done)
    if since and not kept and lock is not None and done():
        # (The other process let go of the lock as what it keeps was written, between two looks.)
        _unlock(lock)
        lock = None
    if kept and not own:  # (gone on with a claim: checked once the other's read is over)
        _check_claim(path, spec, lookups, kept[0], os.dup(directory), prefix, taken[0], keep)
    return lock, (own[0] if own else None), (kept[0] if kept else None)


def _sketched(
    path: Path, spec: TableSpec, lookups: dict[str, Lookup], sketch: Callable[[bytes, Callable[[], str | None]], bool]
) -> tuple[pl.DataFrame | Deferred, str | None]:
    """``cached_entry`` with the cache off (or unusable): a file of ``MIN_SIZE`` or more is
    read once, ``sketch`` reduces its bytes, and its rows are left to a ``Deferred`` holding
    those very bytes (parsed when first asked for; nothing is kept, there is no entry name); a
    smaller one, or one ``sketch`` declines, is parsed."""
    with open_regular(path, spec.label) as handle:
        if os.fstat(handle.fileno()).st_size < MIN_SIZE:
            return read_table(path, spec, lookups), None
        data = read_bytes(path, handle)
    if sketch(data, lambda: None):
        return Deferred(path, spec, lookups, None, data), None
    return read_table(path, spec, lookups, data=data), None


class SheetChanged(InputError):
    """A deferred sheet's file no longer holds the bytes it was hashed from (``Deferred``)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, _("the file changed while it was being read; it will be read again"))


class Deferred:
    """A score sheet's cache entry, loaded when first called for (``cached_entry(...,
    deferred=True)``), once, whichever thread calls. An entry gone or damaged by then (another
    process replaced it, it was evicted, the cache can no longer be used) is a miss: the file
    is read again, hashed, and parsed from those very bytes if they are the ones that named the
    entry; else the file changed since it was hashed and ``SheetChanged`` says so (the console
    reads it again at its next look). ``name`` None, with ``data``: a sheet read with the cache
    off (``_sketched``), whose bytes it holds and parses when called."""

    def __init__(
        self, path: Path, spec: TableSpec, lookups: dict[str, Lookup], name: str | None, data: bytes | None = None
    ) -> None:
        self.path, self.name = path, name
        self._spec, self._lookups = spec, lookups
        self._data = data
        self._frame: pl.DataFrame | None = None
        self._lock = threading.Lock()

    def __call__(self) -> pl.DataFrame:
        with self._lock:
            if self._frame is None:
                self._frame = self._load()
            return self._frame

    def _load(self) -> pl.DataFrame:
        if self._data is not None or self.name is None:
            data, self._data = self._data, None
            assert data is not None
            return read_table(self.path, self._spec, self._lookups, data=data)
        with _the_folder() as directory:
            usable = directory is not None
            found = _load(directory, self.name, self._spec, self._lookups) if directory is not None else None
        if usable:
            if found is not None:
                return found
            frame, name = cached_entry(self.path, self._spec, self._lookups)  # (parsed, and kept again)
            if name == self.name:
                assert isinstance(frame, pl.DataFrame)
                return frame
            if name is not None:
                raise SheetChanged(self.path)
        # The cache cannot be used (any more): the file's bytes, if they still name the entry.
        with open_regular(self.path, self._spec.label) as handle:
            data = read_bytes(self.path, handle)
        digest = _sha256(data)
        if _entry_name(_path_key(self.path), self.path, self._spec, self._lookups, len(data), digest) != self.name:
            raise SheetChanged(self.path)
        return read_table(self.path, self._spec, self._lookups, data=data)


def cached_derived(
    entry: str | None,
    parts: Sequence[str],
    compute: Callable[[], pl.DataFrame],
    fits: Callable[[pl.DataFrame], bool],
    kept: tuple[Callable[[pl.DataFrame], pl.DataFrame], Callable[[pl.DataFrame], pl.DataFrame]] | None = None,
    *,
    one_at_a_time: bool = False,
    defer: bool = False,
) -> pl.DataFrame:
    """A frame computed from a cached table (``compute``; e.g. the score sheet's cells), kept
    beside the table's entry (``entry``, from ``cached_entry``) under a key of that entry's name
    and ``parts``: everything else the computation depends on (the other files' contents, the
    settings, the code), so that any change of them is another key. Loaded only if ``fits``
    (its schema is the one ``compute`` gives), checked like a table's entry; written in a
    thread like one. ``kept``: how the frame is written, and how what is loaded is turned back
    (e.g. codes this process assigned, in an order of their own, as canonical ones). ``entry``
    None (the table is not cached): computed.

    ``one_at_a_time`` (seconds of work, e.g. the analysis's statistics, that every screen of
    the account asks for at once after a change): one process computes it, under the lock of
    the table's frames (one per file, ``_lock``), until it is written; another one asking
    meanwhile waits for it and loads it (``LOCK_WAIT`` seconds at most, then computes).
    ``defer`` (with ``one_at_a_time``; a process that would compute it the slow way: the
    analysis with no scores placed by a stream): while another process holds the scores of
    the table's file as its stream placed them (``hold_placed_mark``), this one waits for that
    one to compute it, even if it asks first (``LOCK_WAIT`` seconds at most)."""
    folder = None if entry is None else cache_folder()
    directory = None if folder is None else _open_folder(folder)
    if entry is None or directory is None:
        return compute()
    name = _derived_name(entry, parts)
    lock = None
    try:
        found = _load_derived(directory, name, fits, kept)
        if found is None and one_at_a_time:
            if defer:
                _wait_for_placed(directory, entry, name)
            lock = _lock(
                directory, entry.split("-", 1)[0] + _DERIVED_LOCK, lambda: _present(directory, name, touch=False)
            )
            found = _load_derived(directory, name, fits, kept)  # (written while this one waited)
        if found is not None:
            _release(directory, lock)
            return found
        frame = compute()
        stored = kept[0](frame) if kept else frame
    except BaseException:
        _release(directory, lock)
        raise
    _write_later(directory, lock, name, stored, None)
    return frame


def _wait_for_placed(directory: int, entry: str, name: str) -> None:
    """While a process holds the scores of this sheet (``entry``) as streamed
    (``hold_placed_mark``) and the frame ``name`` is not kept yet, wait (``LOCK_WAIT`` seconds
    at most: a stopped process must not hold this one back). That process, computing it, then
    holds the file's lock of derived frames until it is written (``cached_derived``): the
    caller waits on that lock next."""
    deadline = time.monotonic() + LOCK_WAIT
    while (
        time.monotonic() < deadline
        and _held(directory, entry + _PLACED_SUFFIX)
        and not _present(directory, name, touch=False)
    ):
        time.sleep(0.02)


def keep_derived_now(entry: str, parts: Sequence[str], frame: pl.DataFrame) -> None:
    """Keep ``frame`` beside the entry ``entry`` under ``parts`` (as ``cached_derived`` keeps
    what it computes), written here and now: a small frame other processes wait for (not
    after the caller's ``writes_afterwards`` block, as the entries and cells are)."""
    with _the_folder() as directory:
        if directory is not None:
            _store(directory, _derived_name(entry, parts), frame, None)


def _load_derived(
    directory: int,
    name: str,
    fits: Callable[[pl.DataFrame], bool],
    kept: tuple[Callable[[pl.DataFrame], pl.DataFrame], Callable[[pl.DataFrame], pl.DataFrame]] | None,
) -> pl.DataFrame | None:
    """The frame kept under ``name`` (``cached_derived``), turned back, if it is there and fits."""
    found = _load_frame(directory, name)
    if found is None or not fits(found):
        return None
    try:
        return kept[1](found) if kept else found
    except Exception:  # (a frame it cannot turn back: computed again, as if missing)
        return None


def derived_present(entry: str, parts: Sequence[str]) -> bool:
    """Whether ``cached_derived`` keeps something under ``entry`` and ``parts`` (its bytes are
    checked when it is loaded)."""
    with _the_folder() as directory:
        return directory is not None and _present(directory, _derived_name(entry, parts), touch=False)


def kept_derived(entry: str, parts: Sequence[str], fits: Callable[[pl.DataFrame], bool]) -> pl.DataFrame | None:
    """What ``cached_derived`` keeps under ``entry`` and ``parts``, if it is there and ``fits``;
    never computed here (None: not kept, or the cache is off)."""
    with _the_folder() as directory:
        found = None if directory is None else _load_frame(directory, _derived_name(entry, parts))
    return found if found is not None and fits(found) else None


class _Hash:
    """A SHA-256 (what ``compute`` returns) computed in a thread from the start: hashlib and
    file reads let go of the interpreter, so it runs beside a parse, a load, or while this
    process waits for another's parse. ``result`` gives it, or raises what it raised."""

    def __init__(self, compute: Callable[[], str]) -> None:
        self._compute: Callable[[], str] | None = compute
        self._outcome: list[str | BaseException] = []
        self._thread: threading.Thread | None = threading.Thread(target=self._run, name="panel-tui hash", daemon=True)
        try:
            self._thread.start()
        except RuntimeError:  # (no thread to be had: computed in ``result``)
            self._thread = None

    def _run(self) -> None:
        assert self._compute is not None
        try:
            self._outcome.append(self._compute())
        except BaseException as exc:  # (raised in the caller's thread, by ``result``)
            self._outcome.append(exc)

    def result(self) -> str:
        if self._thread is None:
            assert self._compute is not None
            self._outcome.append(self._compute())
        else:
            self._thread.join()
        self._compute = None  # (let go of what it hashed)
        outcome = self._outcome[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha256(path: Path, handle: BinaryIO, whole: list[bytes] | None) -> str:
    """The SHA-256 of a file's content: read in blocks (``_digest``), or, for a caller that
    keeps the bytes (``cached_entry``'s ``keep``), read whole into memory and put in ``whole``."""
    if whole is None:
        return _digest(path, handle)
    data = read_bytes(path, handle, start=0)
    whole.append(data)
    return _sha256(data)


def _offer(keep: Callable[[str, bytes | None], None] | None, name: str, whole: list[bytes]) -> None:
    """``keep`` given an entry's name and the bytes hashed to it, if it asks and they were read."""
    if keep is not None and whole:
        keep(name, whole[0])


def _digest(path: Path, handle: BinaryIO) -> str:
    """The SHA-256 of a file's content, read in blocks (nothing held in memory)."""
    digest = hashlib.sha256()
    buffer = bytearray(1 << 20)
    view = memoryview(buffer)
    try:
        while size := handle.readinto(view):  # type: ignore[attr-defined]
            digest.update(view[:size])
    except OSError as exc:
        raise InputError(path, _("cannot read the file: {why}").format(why=exc.strerror)) from None
    return digest.hexdigest()


_QUIET = threading.Condition()
_BUSY = [0]  # how many ``writes_afterwards`` blocks are running (the entries wait for none)
_MARKS: list[int] = []  # the loading marks this process holds (``_mark_loading``), under _QUIET
_MOST_DEFERRED = 30.0  # seconds an entry waits for them at most


@contextlib.contextmanager
def writes_afterwards(marks: list[int] | None = None) -> Iterator[None]:
    """Entries of the sheets parsed inside are written once the block ends: the console's
    boards are computed first, not beside the writing of an entry (on two cores the two
    slowed each other down). The loading marks taken inside (``_mark_loading``) are let go
    of then too; with ``marks``, they are handed over to it instead, for the caller to let
    go of (``let_go``) once its boards are on its screen."""
    with _QUIET:
        _BUSY[0] += 1
    try:
        yield
    finally:
        with _QUIET:
            _BUSY[0] -= 1
            if _BUSY[0] == 0:
                if marks is not None:
                    marks.extend(_MARKS)
                    _MARKS.clear()
                while _MARKS:
                    _unlock(_MARKS.pop())
            _QUIET.notify_all()


def let_go(marks: list[int]) -> None:
    """Let go of loading marks handed over by ``writes_afterwards`` (any thread; twice is harmless)."""
    with _QUIET:
        while marks:
            _unlock(marks.pop())


def _mark_loading(directory: int, prefix: str) -> None:
    """Inside ``writes_afterwards`` (a console computing its boards), say so to the account's
    other processes until the block ends: a shared lock on the file's loading mark, which
    ``others_loading`` sees. (Kept, like the lock file; a killed process lets go of it.)"""
    with _QUIET:
        if _BUSY[0] == 0:
            return
        fd = _flocked(directory, prefix + _LOADING_SUFFIX, fcntl.LOCK_SH)
        if fd is not None:
            _MARKS.append(fd)


def others_loading(path: Path) -> bool:
    """Whether another process of this account is computing boards from this file now (a
    second console or served tab, after the file changed): a console's robustness analysis
    waits for them (the tui's ``analyse``), so that on two cores every screen's boards come
    before any screen's analysis."""
    with _the_folder() as directory:
        return directory is not None and _held(directory, _path_key(path) + _LOADING_SUFFIX)


def _held(directory: int, name: str) -> bool:
    """Whether a mark of the folder (``_LOADING_SUFFIX``, ``_PLACED_SUFFIX``) is held, shared,
    by a process (this one's own holding too: flock sees each descriptor on its own)."""
    try:
        fd = os.open(name, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=directory)
    except OSError:
        return False  # (no mark: nobody ever held it)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # (BlockingIOError: held, shared)
        return True
    finally:
        os.close(fd)  # (and with it the lock, when it was taken)
    return False


def hold_placed_mark(entry: str) -> Callable[[], None]:
    """Say to the account's other processes, until the call returned is made (any thread; twice
    is harmless), that this one holds the scores of ``entry``'s sheet as its stream placed them
    (``contest.PlacedScores``): it computes what the analysis derives from them without the
    rows, and another process asking for the same frames waits for it rather than load the rows
    and compute them too (``cached_derived``'s ``defer``). A shared lock on the sheet's mark,
    one per entry (a mark for an earlier version of the file never holds back the analysis of
    this one; a killed process lets go of it); the marks of sheets no longer kept go with them
    (``_evict``)."""
    with _the_folder() as directory:
        fd = None if directory is None else _flocked(directory, entry + _PLACED_SUFFIX, fcntl.LOCK_SH)
    held = [] if fd is None else [fd]

    def release() -> None:
        with contextlib.suppress(IndexError):  # (let go of already)
            _unlock(held.pop())

    return release


def _flocked(directory: int, name: str, operation: int) -> int | None:
    """A file of the folder (made if missing) with ``operation`` (a flock) taken without
    waiting, else None."""
    try:
        fd = os.open(name, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_CREAT, 0o600, dir_fd=directory)
    except OSError:
        return None
    try:
        fcntl.flock(fd, operation | fcntl.LOCK_NB)
    except OSError:  # (BlockingIOError: held the other way)
        os.close(fd)
        return None
    return fd


def wait_for_writes() -> None:
    """Wait until the entries being written are written (a process about to exit)."""
    while _WRITERS:
        _WRITERS.pop().join()


def _stat_hint(st: os.stat_result) -> str:
    return f"{st.st_dev} {st.st_ino} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns}"


def _hint(directory: int, prefix: str) -> tuple[str | None, str | None]:
    """What was recorded when an entry was last written for the file: its stat hint then, and
    the entry's name (None where absent or malformed)."""
    data = _read_small(directory, prefix + _HINT_SUFFIX)
    if data is None:
        return None, None
    seen, _newline, named = data.decode("ascii", "replace").partition("\n")
    return seen, named if re.fullmatch(re.escape(prefix) + "-[0-9a-f]{64}", named) else None


def _entry_name(prefix: str, path: Path, spec: TableSpec, lookups: dict[str, Lookup], size: int, digest: str) -> str:
    """The name of the entry of a table of ``size`` bytes hashing to ``digest``: the file's
    path key (``prefix``), then the key of everything its parse depends on."""
    key = _hashed(
        path.suffix.lower(),
        repr(spec),
        repr(sorted((column, lookup.values) for column, lookup in lookups.items())),
        str(size),
        digest,
    )
    return f"{prefix}-{key}"


def _derived_name(entry: str, parts: Sequence[str]) -> str:
    """The name of a frame kept beside the entry ``entry`` under ``parts`` (``cached_derived``)."""
    return f"{entry}{_DERIVED}{_hashed(*parts)}"


def _sheet_of(name: str) -> str:
    """The table's entry a file of the folder belongs to (itself, or the one it is kept beside)."""
    return name.removesuffix(_SUFFIX).split(_DERIVED, 1)[0]


def _hashed(*parts: str) -> str:
    """A key: the SHA-256 of ``parts`` after the cache's layout, the reader's code and polars'
    version (an entry any of them would read otherwise is never found)."""
    key = hashlib.sha256()
    for part in (CACHE_VERSION, READER, pl.__version__, *parts):
        key.update(part.encode("utf-8", "surrogatepass") + b"\x00")
    return key.hexdigest()


def _path_key(path: Path) -> str:
    """The entries of one file share this prefix, so a new version replaces the old one."""
    return hashlib.sha256(os.fsencode(os.path.realpath(path))).hexdigest()[:16]


def _trusted(st: os.stat_result) -> bool:
    return st.st_uid == os.geteuid() and st.st_mode & 0o077 == 0


@contextlib.contextmanager
def _the_folder() -> Iterator[int | None]:
    """The cache folder's descriptor for the block (``_open_folder``), closed after it; None
    when the cache is off or cannot be used."""
    folder = cache_folder()
    directory = None if folder is None else _open_folder(folder)
    try:
        yield directory
    finally:
        if directory is not None:
            os.close(directory)


def _open_folder(folder: Path) -> int | None:
    """The cache folder's descriptor, made if missing, or None if it is not this account's own."""
    try:
        os.makedirs(folder.parent, mode=0o700, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder, 0o700)
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    if not _trusted(os.fstat(fd)):
        os.close(fd)
        return None
    return fd


def _open_entry(directory: int, name: str) -> int | None:
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=directory)
    except OSError:
        return None
    st = os.fstat(fd)
    if not (stat.S_ISREG(st.st_mode) and st.st_nlink == 1 and _trusted(st)):
        os.close(fd)
        return None
    return fd


def _present(directory: int, name: str, touch: bool = True) -> bool:
    """Whether the entry ``name`` is there and trusted (``_open_entry``; its bytes are checked
    when it is loaded); ``touch``: marked as used now (the eviction's order)."""
    fd = _open_entry(directory, name + _SUFFIX)
    if fd is None:
        return False
    try:
        if touch:
            os.utime(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
    return True


def _load(directory: int, name: str, spec: TableSpec, lookups: dict[str, Lookup]) -> pl.DataFrame | None:
    """The entry's frame, if it has the columns and types a parse gives (``_fits``), or None."""
    frame = _load_frame(directory, name)
    return frame if frame is not None and _fits(frame, spec, lookups) else None


def _load_frame(directory: int, name: str) -> pl.DataFrame | None:
    """The entry's frame, or None. Its bytes must hash to the checksum written beside it when
    it was stored (Arrow IPC has none: one flipped byte could change a score and still load),
    and only then are they parsed; any entry that fails is dropped (the file is parsed)."""
    fd = _open_entry(directory, name + _SUFFIX)
    if fd is None:
        return None
    expected = _read_small(directory, name + _SUM_SUFFIX)
    try:
        with os.fdopen(fd, "rb") as handle:
            data = handle.read()
            checksum = _checksum(name)
            checksum.update(data)
            if expected is None or checksum.hexdigest().encode("ascii") != expected:
                raise ValueError("checksum")
            frame = pl.read_ipc(data)
            os.utime(handle.fileno())  # recently used (the eviction's order)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # damaged (polars may even panic on it): parse the file instead, and drop the entry
        _drop(directory, name)
        return None
    return frame


def _drop(directory: int, name: str) -> None:
    for suffix in (_SUFFIX, _SUM_SUFFIX):
        with contextlib.suppress(OSError):
            os.unlink(name + suffix, dir_fd=directory)


def _read_small(directory: int, name: str) -> bytes | None:
    fd = _open_entry(directory, name)
    if fd is None:
        return None
    with os.fdopen(fd, "rb") as handle:
        return handle.read(400)


def _fits(frame: pl.DataFrame, spec: TableSpec, lookups: dict[str, Lookup]) -> bool:
    """The columns and types a parse of this spec gives, the ids typed by these very ids."""
    schema = frame.schema
    if not set(spec.required) <= set(schema) or (
        not spec.keep_extra and not set(schema) <= {*spec.required, *spec.optional}
    ):
        return False
    for column, dtype in schema.items():
        if column in lookups and dtype != lookups[column].dtype:
            return False
        if column in spec.numeric and dtype != pl.Float64:
            return False
        if column in spec.categorical and not isinstance(dtype, pl.Categorical):
            return False
    return all(frame[column].null_count() == 0 for column in spec.required)


def _lock(directory: int, prefix: str, done: Callable[[], bool] | None = None) -> int | None:
    """An exclusive lock per scores file (its path key), kept as a file of the folder: never
    removed, so that two processes never hold locks on two different files of one name. While
    one process parses and writes a file's entry, another one asking for it waits, then loads;
    ``done``: asked while it waits, and when true it waits no more (None: no lock)."""
    try:
        fd = os.open(
            prefix + _LOCK_SUFFIX, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=directory
        )
    except OSError:
        return None  # no lock: at worst two processes parse the same file
    # Not for ever: a process stopped while it holds the lock (Ctrl+Z in a tmux window) must
    # not stop this one; after LOCK_WAIT seconds it parses the file itself.
    deadline = time.monotonic() + LOCK_WAIT
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() >= deadline or (done is not None and done()):
                    break
                # (Looking for what the holder keeps, a screen waits 0.01 s on average once it is
                # there, not 0.025 s: a few system calls a look.)
                time.sleep(0.05 if done is None else 0.02)
            except OSError:  # a filesystem without flock
                break
    except BaseException:
        os.close(fd)
        raise
    os.close(fd)
    return None


def _unlock(lock: int | None) -> None:
    if lock is not None:
        os.close(lock)  # (closing the descriptor releases the flock)


def _release(directory: int, lock: int | None) -> None:
    _unlock(lock)
    os.close(directory)


def _write_later(directory: int, lock: int | None, name: str, frame: pl.DataFrame | None, hint: str | None) -> None:
    """Write the entry in a thread (``_store_and_release``: once no ``writes_afterwards``
    block runs), then let go of the file's lock and the folder's descriptor. ``frame`` None
    (a sketched sheet, ``cached_entry``): no entry, only what this process keeps beside it
    is waited for, and the ``hint`` written."""
    writer = threading.Thread(
        target=_store_and_release, args=(directory, lock, name, frame, hint), name=f"panel-tui cache {name}"
    )
    writer.start()
    _WRITERS[:] = [w for w in _WRITERS if w.is_alive()] + [writer]  # (a console reloads for hours)
    if _DERIVED in name:  # (started: a table's writer may wait for it, ``_store_and_release``)
        _BESIDE[:] = [w for w in _BESIDE if w.is_alive()] + [writer]


def _store_and_release(
    directory: int, lock: int | None, name: str, frame: pl.DataFrame | None, hint: str | None
) -> None:
    try:
        if frame is None:
            _join_beside(name)
            if hint is not None:
                with contextlib.suppress(OSError):
                    _write_hint(directory, name, hint)
            return
        with _QUIET:
            _QUIET.wait_for(lambda: _BUSY[0] == 0, timeout=_MOST_DEFERRED)
        # The frames kept beside this entry (its cells and evaluators, computed in the same
        # block) are written before the processes waiting for this parse go on: they then
        # find the cells too, and need not load the rows nor group them. Those being written
        # already are written first (the processes waiting go on once they are: the rows, a
        # larger frame, would take the cores from them); those started while the entry is
        # written (`rank`, which writes no block) before the lock is let go.
        if lock is not None:
            _join_beside(name)
        _store(directory, name, frame, hint)
        if lock is not None:
            _join_beside(name)
    finally:
        _release(directory, lock)


def _join_beside(name: str) -> None:
    """Wait (at most LOCK_WAIT seconds each) for this process's writers of frames kept beside
    the entry ``name`` (``cached_derived``)."""
    beside = f"panel-tui cache {name}{_DERIVED}"
    for writer in list(_BESIDE):
        if writer.name.startswith(beside):
            writer.join(LOCK_WAIT)


def _store(directory: int, name: str, frame: pl.DataFrame, hint: str | None) -> None:
    """Write the entry atomically (and, for a table's entry, the file's stat ``hint``), then drop
    older versions of the same file and the least recently used sheets beyond ``KEEP``. A
    failure (full disk) leaves no entry, no error."""
    temporary = f".{name}.{os.getpid()}.tmp"
    try:
        fd = os.open(
            temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=directory
        )
        with os.fdopen(fd, "wb") as handle:
            hashing = _Hashing(handle, name)
            # LZ4: far fewer bytes to write, hash, read back and hash again, for a
            # decompression that costs less than that (bench/README.md, "The cache").
            frame.write_ipc(hashing, compression="lz4")  # type: ignore[call-overload]
            # (Not synced: a crash that leaves it half written leaves it failing its checksum.)
        _write_small(directory, name + _SUM_SUFFIX, hashing.digest.hexdigest().encode("ascii"))
        os.replace(temporary, name + _SUFFIX, src_dir_fd=directory, dst_dir_fd=directory)
        if hint is not None:
            _write_hint(directory, name, hint)
    except Exception:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=directory)
        return
    _evict(directory, keep=name)


def _checksum(name: str) -> hashlib._Hash:
    """The hash an entry's checksum is made with: over its name, then its bytes (so an entry
    renamed to another key, checksum and all, does not load under that key)."""
    return hashlib.sha256(name.encode("ascii") + b"\x00")


class _Hashing:
    """A file that hashes what is written to it (the entry's checksum, in the same pass)."""

    def __init__(self, handle: BinaryIO, name: str) -> None:
        self.handle = handle
        self.digest = _checksum(name)

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.handle.write(data)

    def flush(self) -> None:
        self.handle.flush()


def _write_hint(directory: int, name: str, hint: str) -> None:
    """Record that the file as ``hint`` describes it (its stat) holds the bytes of the entry
    ``name`` (``_hint`` reads it)."""
    _write_small(directory, name.split("-", 1)[0] + _HINT_SUFFIX, f"{hint}\n{name}".encode("ascii"))


def _write_small(directory: int, name: str, data: bytes) -> None:
    temporary = f".{name}.{os.getpid()}.tmp"
    fd = os.open(
        temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=directory
    )
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, name, src_dir_fd=directory, dst_dir_fd=directory)


def _evict(directory: int, keep: str) -> None:
    """Drop the older versions of ``keep``'s file, the least recently used sheets beyond
    ``KEEP`` (with the frames kept beside them), the temporary files of writers that were
    killed and the checksums of entries no longer there (both older than a minute: a writer at
    work writes its entry's checksum, then renames the entry into place), the hints of files
    with no entry, and the placed marks (``hold_placed_mark``) of sheets with nothing kept
    (older than a minute too)."""
    prefix = keep.split("-", 1)[0] + "-"
    table = _sheet_of(keep)  # (the table's entry and the frames derived from it stay together)
    names = os.listdir(directory)
    entries = []
    for entry in names:
        if not entry.endswith(_SUFFIX) or entry == keep + _SUFFIX:
            continue
        if entry.startswith(prefix) and _sheet_of(entry) != table:
            _drop(directory, entry.removesuffix(_SUFFIX))
            continue
        with contextlib.suppress(OSError):
            entries.append((os.stat(entry, dir_fd=directory, follow_symlinks=False).st_mtime_ns, entry))
    # The least recently used sheets beyond KEEP go, each with what is kept beside it (they are
    # used together: the newest of them dates the sheet; the one being written stays).
    used: dict[str, int] = {}
    for mtime, entry in entries:
        sheet = _sheet_of(entry)
        used[sheet] = max(used.get(sheet, 0), mtime)
    used.pop(table, None)
    dropped = set(sorted(used, key=lambda sheet: used[sheet], reverse=True)[KEEP - 1 :])
    for _mtime, entry in entries:
        if _sheet_of(entry) in dropped:
            _drop(directory, entry.removesuffix(_SUFFIX))
    left = {n.removesuffix(_SUFFIX) for n in os.listdir(directory) if n.endswith(_SUFFIX)}
    files = {n.split("-", 1)[0] for n in left}
    sheets = {_sheet_of(n) for n in left}
    now = time.time()
    for entry in names:
        stale = (
            (entry.endswith(".tmp") and entry.startswith("."))
            and _older(directory, entry, now - 60)
            or entry.endswith(_SUM_SUFFIX)
            and entry.removesuffix(_SUM_SUFFIX) not in left
            and _older(directory, entry, now - 60)
            or entry.endswith(_HINT_SUFFIX)
            and entry.removesuffix(_HINT_SUFFIX) not in files
            or entry.endswith(_CLAIM_SUFFIX)
            and entry.removesuffix(_CLAIM_SUFFIX) not in files
            and _older(directory, entry, now - 60)
            # (A sheet's mark outlives it a minute: a stream holds it before its cells are written.)
            or entry.endswith(_PLACED_SUFFIX)
            and entry.removesuffix(_PLACED_SUFFIX) not in sheets
            and _older(directory, entry, now - 60)
        )
        if stale:
            with contextlib.suppress(OSError):
                os.unlink(entry, dir_fd=directory)


def _older(directory: int, name: str, than: float) -> bool:
    try:
        return os.stat(name, dir_fd=directory, follow_symlinks=False).st_mtime < than
    except OSError:
        return False
