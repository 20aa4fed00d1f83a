"""The session: an append-only journal of the panel's events in one SQLite file (the README's "The session").

This module is the only place that writes the session. Each event records who (the OS
account of the process: never an environment variable or a flag), when, what (a JSON
payload) and a SHA-256 chained to the previous event, so an edited, removed or reordered
event is found by ``verify``. Several processes (the secretary's and the chair's SSH
terminals, the shared screen) read and append at once: WAL mode, a busy timeout, and each
append in its own ``BEGIN IMMEDIATE`` transaction, committed with ``synchronous=FULL``
before the caller is told it succeeded.

With a signers file (``[contest] signers``), every event is also signed by its author's SSH
key (``panel_tui.signing``: the agent first, then ``~/.ssh/id_ed25519``) over the same bytes
the hash covers, previous hash included; an account with no key listed for it writes nothing
(exit 3). The signatures, not the triggers or the chain, are what an account with write access
to the file cannot forge. The file and its ``-wal``/``-shm`` are never opened or chmod-ed
through a symbolic link.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import grp
import hashlib
import json
import os
import pwd
import resource
import sqlite3
import stat
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar
from urllib.parse import quote

from panel_tui.config import Config, Roles
from panel_tui.errors import PanelError, Refused
from panel_tui.i18n import N_, _
from panel_tui.vocabulary import EventKind, Role, event_words, role_words

P = ParamSpec("P")
R = TypeVar("R")

GENESIS = "0" * 64
# One row of the events table as stored: (seq, kind, author, at, payload, prev, hash, sig). Read
# as it is, whatever is in it (check_chain judges it).
RawRow = tuple[Any, ...]
KINDS: tuple[str, ...] = tuple(EventKind)  # (panel_tui.vocabulary lists the words once)
ROLES: tuple[str, ...] = tuple(Role)
# Who may write each kind of event (the README's "The session"). Viewers only read.
MAY: dict[str, tuple[Role, ...]] = {
    EventKind.NOTE: (Role.SECRETARY, Role.CHAIR, Role.MEMBER),
    EventKind.FOCUS: (Role.SECRETARY, Role.CHAIR),
    EventKind.TIE_ORDER: (Role.SECRETARY, Role.CHAIR),
    EventKind.EXCLUSION: (Role.SECRETARY, Role.CHAIR),
    EventKind.LOCK_PROPOSED: (Role.SECRETARY,),
    EventKind.LOCK_CONFIRMED: (Role.CHAIR,),
}
WHAT: dict[str, str] = {
    EventKind.NOTE: N_("adding a note"),
    EventKind.FOCUS: N_("moving the focus"),
    EventKind.TIE_ORDER: N_("recording a tie decision"),
    EventKind.EXCLUSION: N_("recording an exclusion"),
    EventKind.LOCK_PROPOSED: N_("proposing the lock"),
    EventKind.LOCK_CONFIRMED: N_("confirming the lock"),
}  # (translated where shown)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq     INTEGER PRIMARY KEY,
    kind    TEXT NOT NULL,
    author  TEXT NOT NULL,
    at      TEXT NOT NULL,
    payload TEXT NOT NULL,
    prev    TEXT NOT NULL,
    hash    TEXT NOT NULL,
    sig     TEXT            -- the author's armored SSH signature of signed_bytes(), or NULL (unsigned journal)
);
-- Append-only for honest clients; a dishonest one who drops these is caught by the chain.
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
"""


class SessionError(PanelError):
    """The session file cannot be opened or written (exit status 2), with the reason."""

    exit_status = 2


class NoWritePermission(Refused):
    """The account may read the session but not write it (exit status 3): a viewer's account,
    the projector's. Reading works; every write is refused naming the permission."""


class SessionWriteError(SessionError):
    """Writing the session failed for a reason of the system (a full disk, the file size
    limit, an I/O error): nothing was recorded, the journal is as it was (exit status 2)."""


def _is_write_failure(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return True
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc).lower()
    return name.startswith(("SQLITE_FULL", "SQLITE_IOERR")) or "disk is full" in text or "disk i/o error" in text


def _os_reason(path: Path) -> str:
    """The system's reason for a failed session write, as far as it can be found afterwards:
    SQLite reports only 'database or disk is full' or 'disk I/O error'."""
    reasons = []
    try:
        soft, _hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    except (OSError, ValueError):
        soft = resource.RLIM_INFINITY
    if soft != resource.RLIM_INFINITY:
        sizes = []
        for suffix in ("", "-wal", "-journal"):
            with contextlib.suppress(OSError):
                sizes.append(os.stat(f"{path}{suffix}").st_size)
        if any(size + (1 << 16) >= soft for size in sizes) or soft < (1 << 20):
            reasons.append(
                _(
                    "{error}: this process may write files of at most {size} bytes (the file size limit, ulimit -f)"
                ).format(error=os.strerror(errno.EFBIG), size=soft)
            )
    try:
        fs = os.statvfs(path.parent)
        free = fs.f_bavail * fs.f_frsize
        if free < (1 << 20):
            reasons.append(
                _("{error} ({free} bytes free in {folder})").format(
                    error=os.strerror(errno.ENOSPC), free=free, folder=path.parent
                )
            )
    except OSError:
        pass
    return "; ".join(reasons)


def write_failure(path: Path, exc: BaseException) -> SessionWriteError:
    """A SessionWriteError naming the file and the system's reason for ``exc``."""
    said = exc.strerror or str(exc) if isinstance(exc, OSError) else str(exc)
    found = _os_reason(path)
    reason = f"{said} ({found})" if found and found.lower() not in said.lower() else said
    return SessionWriteError(
        _("{path}: cannot write the session: {why}; nothing was recorded").format(path=path, why=reason)
    )


def close_journals() -> None:
    """Close every journal this process has open: SQLite then checkpoints the ``-wal`` into the
    main file and removes its sidecars, as at any close (a process about to end with
    ``os._exit``, ``cli.program``, which skips the closing a normal exit does)."""
    for journal in list(_OPEN):
        journal.close()


@dataclass(frozen=True)
class Event:
    seq: int
    kind: str
    author: str
    at: str
    payload: dict[str, Any]
    prev: str
    hash: str
    sig: str | None = None  # the author's SSH signature of signed_bytes(), in a signed journal
    payload_text: str = ""  # the payload exactly as stored (what the hash and the signature cover)

    @property
    def signed_bytes(self) -> bytes:
        return signed_bytes(self.prev, self.seq, self.kind, self.author, self.at, self.payload_text)

    @functools.cached_property
    def chained_hash(self) -> str:
        """``event_hash`` of the event as stored (computed once: ``Journal.events`` hands out
        the same event for a row read again unchanged, and the chain is checked at every read)."""
        return event_hash(self.prev, self.seq, self.kind, self.author, self.at, self.payload_text)


def account() -> str:
    """The login name of the process's effective uid: the only source of identity."""
    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid:{uid}"


def role_of(roles: Roles, who: str) -> Role:
    if who in roles.secretary:
        return Role.SECRETARY
    if who in roles.chair:
        return Role.CHAIR
    if who in roles.members:
        return Role.MEMBER
    return Role.VIEWER


def may(config: Config, who: str, kind: str) -> bool:
    return role_of(config.roles, who) in MAY[kind]


def require(config: Config, who: str, kind: str) -> None:
    """Refuse (exit 3) unless ``who`` has a role that may write ``kind``."""
    role = role_of(config.roles, who)
    if role not in MAY[kind]:
        needed = _(" or ").join(role_words(r) for r in MAY[kind])
        raise Refused(
            _("{what} needs the role {needed}; account {who} is a {role} in this contest").format(
                what=_(WHAT[kind]), needed=needed, who=repr(who), role=role_words(role)
            )
        )


def shared_folder(folder: Path) -> bool:
    """A group-shared (setgid) folder: what is made in it must stay usable by the group,
    whatever the creator's umask (the session and its sidecars, the exports)."""
    return bool(folder.stat().st_mode & stat.S_ISGID)


def shared_mode(folder: Path) -> int:
    """The mode of a session file in a group-shared folder: the group reads and writes; every
    account on the host reads too when the folder lets them in (``chmod 3775``: the projector's
    account and observers, read-only)."""
    mode = folder.stat().st_mode
    return 0o660 | (0o004 if mode & 0o005 == 0o005 else 0)


def canonical(value: Any) -> str:
    """The one JSON spelling hashed and stored: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def signed_bytes(prev: str, seq: int, kind: str, author: str, at: str, payload_text: str) -> bytes:
    """An event's canonical bytes: what its hash and its author's signature cover, the previous
    event's hash included (so a signature cannot be moved to another place in the journal)."""
    return canonical([prev, seq, kind, author, at, payload_text]).encode("utf-8")


def event_hash(prev: str, seq: int, kind: str, author: str, at: str, payload_text: str) -> str:
    return hashlib.sha256(signed_bytes(prev, seq, kind, author, at, payload_text)).hexdigest()


def refuse_link(path: Path) -> None:
    """A session file that is a symbolic link is refused (exit 2): a member could otherwise
    point it at a colleague's private file, which the next write would turn into a journal."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise SessionError(
            _("{path}: cannot look at the session file ({why})").format(path=path, why=exc.strerror)
        ) from None
    if stat.S_ISLNK(st.st_mode):
        try:
            owner = pwd.getpwuid(st.st_uid).pw_name
        except KeyError:
            owner = f"uid {st.st_uid}"
        raise SessionError(
            _(
                "{path}: the session file is a symbolic link (to {target}), made by {owner}; "
                "refusing to open it: {owner} or an administrator must remove the link"
            ).format(path=path, target=os.readlink(path), owner=owner)
        )
    if not stat.S_ISREG(st.st_mode):
        raise SessionError(_("{path}: the session file is not a regular file").format(path=path))


def default_path(config: Config) -> Path:
    """sessions/<contest id>.sqlite under the working directory (the README's "The contest files")."""
    return Path.cwd() / "sessions" / f"{config.contest.id}.sqlite"


def _describe(path: Path) -> str:
    st = path.stat()
    try:
        owner = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        owner = str(st.st_uid)
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    return _("owner {owner}, group {group}, mode {mode}").format(
        owner=owner, group=group, mode=stat.filemode(st.st_mode)
    )


def _one_thread_at_a_time(method: Callable[Concatenate[Journal, P], R]) -> Callable[Concatenate[Journal, P], R]:
    """A journal method run under the journal's lock: its one connection is used by one thread
    at a time (the console reads the session in a worker thread and writes it from the UI thread)."""

    def locked(journal: Journal, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with journal._lock:
            return method(journal, *args, **kwargs)

    return locked


_OPEN: weakref.WeakSet[Journal] = weakref.WeakSet()  # journals with a connection (close_journals)


class Journal:
    """The session's event journal. Open it, read ``events()``, ``append()`` to it."""

    def __init__(self, path: Path, *, writable: bool = True, signers: Path | None = None) -> None:
        self.path = Path(path)
        self.writable = writable
        self.signers = signers  # an allowed-signers file: every event is signed
        self._conn: sqlite3.Connection | None = None
        # One connection, used by one thread at a time: the console reads the session in a
        # worker thread and writes it from the UI thread.
        self._lock = threading.RLock()
        # The events of the last read, by their rows as stored: a row read again, byte for byte
        # the same, is not parsed again (the session's first event keeps the whole list, a few
        # megabytes at 10,000 candidates, and every note has the console read every event).
        # Shared between reads: an event's payload is never changed.
        self._parsed: dict[RawRow, Event] = {}

    # -- opening ----------------------------------------------------------------------
    def _shared_folder(self) -> bool:
        return shared_folder(self.path.parent)

    def write_problem(self) -> str | None:
        """Why the running account cannot write this session, naming the file or folder and
        the permission it lacks; None when it can."""
        who = account()
        folder = self.path.parent
        for suffix in ("", "-wal", "-shm"):
            f = Path(f"{self.path}{suffix}")
            if f.exists() and not os.access(f, os.W_OK):
                return _(
                    "{file}: account {who} may read but not write this session file ({described}); "
                    "writing needs write permission: put the account in the file's group"
                ).format(file=f, who=repr(who), described=_describe(f))
        missing = [s for s in ("-wal", "-shm") if not Path(f"{self.path}{s}").exists()]
        if (missing or not self.path.exists()) and folder.exists() and not os.access(folder, os.W_OK | os.X_OK):
            return _(
                "{folder}: account {who} cannot create files in the sessions folder ({described}); "
                "writing needs write permission on the folder (see the README: a group-shared folder)"
            ).format(folder=folder, who=repr(who), described=_describe(folder))
        return None

    def _check_writable(self) -> None:
        """Name the file and the missing permission before SQLite fails less clearly (exit 3)."""
        problem = self.write_problem()
        if problem:
            raise NoWritePermission(problem)

    def _create(self) -> None:
        folder = self.path.parent
        if not folder.exists():
            try:
                folder.mkdir(parents=True)
            except OSError as exc:
                raise SessionError(
                    _("{folder}: cannot create the sessions folder ({why})").format(folder=folder, why=exc.strerror)
                ) from None
        self._check_writable()
        if not self.path.exists() and self._shared_folder():
            # In a group-shared folder the session must be writable by the group, whatever
            # the creator's umask: create it 0660 ourselves; SQLite gives -wal/-shm the same mode.
            mode = shared_mode(folder)
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, mode)
            except FileExistsError:
                return
            except OSError as exc:
                raise write_failure(self.path, exc) from None
            try:
                os.fchmod(fd, mode)
            finally:
                os.close(fd)

    def connect(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        for suffix in ("", "-wal", "-shm"):
            refuse_link(Path(f"{self.path}{suffix}"))
        if self.writable:
            self._create()
        elif not self.path.exists():
            raise SessionError(
                _("{path}: no session yet (nothing has been recorded for this contest)").format(path=self.path)
            )
        elif not os.access(self.path, os.R_OK):
            raise SessionError(
                _(
                    "{path}: account {who} cannot read this session ({described}); "
                    "reading needs read permission (see the README: who reads the session)"
                ).format(path=self.path, who=repr(account()), described=_describe(self.path))
            )
        conn = None
        try:
            if not self.writable and self.write_problem():
                return self._read_only_connection()
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 30000")
            if self.writable:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = FULL")
                conn.executescript(_SCHEMA)
                if "sig" not in {row[1] for row in conn.execute("PRAGMA table_info(events)")}:
                    conn.execute("ALTER TABLE events ADD COLUMN sig TEXT")  # a journal from before signatures
                self._share_sidecars()
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()  # SQLite tidies its -wal and -shm files when it can
            if _is_write_failure(exc):
                raise write_failure(self.path, exc) from None
            raise SessionError(
                _("{path}: not a usable session database ({why})").format(path=self.path, why=exc)
            ) from None
        self._conn = conn
        _OPEN.add(self)
        return conn

    def _read_only_connection(self) -> sqlite3.Connection:
        """For an account that may read but not write: SQLite must create the ``-shm`` file to
        read a WAL database, which it cannot. While a writer has the session open the ``-wal``
        and ``-shm`` are there to read; when none has, the main file holds every event and is
        read as immutable. Chosen afresh at each read (``_read`` closes it after use)."""
        live = Path(f"{self.path}-wal").exists() and Path(f"{self.path}-shm").exists()
        uri = f"file:{quote(str(self.path))}?mode=ro" + ("" if live else "&immutable=1")
        conn = sqlite3.connect(uri, uri=True, timeout=30.0, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 30000")
        self._read_only = True
        return conn

    def _share_sidecars(self) -> None:
        """Give the session and its ``-wal``/``-shm`` the group's mode when they lack it (a file
        made before the folder was shared; SQLite itself gives the sidecars the main file's mode).

        Never through a descriptor opened for reading or writing: closing one drops every POSIX
        lock this process holds on the file, SQLite's included, and SQLite would then go on as
        if it held them (another process deletes the ``-wal`` under it; this console sees
        nothing new and its next write finds the database "malformed"). An ``O_PATH``
        descriptor is no open file, its close drops no lock; it is opened without following
        links (never chmod a link's target) and changed through ``/proc/self/fd``."""
        if not self._shared_folder():
            return
        wanted = shared_mode(self.path.parent)
        for suffix in ("", "-wal", "-shm"):
            try:
                fd = os.open(f"{self.path}{suffix}", os.O_PATH | os.O_NOFOLLOW)
            except OSError:
                continue
            try:
                st = os.fstat(fd)
                if stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid() and st.st_mode & wanted != wanted:
                    os.chmod(f"/proc/self/fd/{fd}", (st.st_mode | wanted) & 0o7777)
            except OSError:
                pass  # no /proc: the file keeps its mode, and write_problem names it to whoever cannot write
            finally:
                os.close(fd)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __del__(self) -> None:
        # A journal let go of closes its connection at once (SQLite's connection and its
        # statement cache hold each other: left to the garbage collector, it stays open, and
        # a process ending with os._exit would leave the -wal unmerged beside the session).
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ----------------------------------------------------------------------
    def events(self) -> list[Event]:
        """Every event in journal order, as stored (verify checks them; this does not)."""
        if not self.writable and not self.path.exists():
            return []
        rows = self.raw_rows()
        parsed = self._parsed
        events = [parsed.get(row) or _event(row) for row in rows]
        self._parsed = dict(zip(rows, events, strict=True))
        return events

    def raw_rows(self) -> list[RawRow]:
        """(seq, kind, author, at, payload, prev, hash, sig) of every event, as stored."""
        rows = self._read("SELECT * FROM events ORDER BY seq")
        # A journal from before signatures has no sig column (a reader does not add it).
        return [tuple(row[:8]) if len(row) >= 8 else (*row[:7], None) for row in rows]

    def head(self) -> tuple[int, str]:
        """(last seq, last hash): cheap, for noticing that someone else appended."""
        rows = self._read("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
        return (rows[0][0], rows[0][1]) if rows else (0, GENESIS)

    @_one_thread_at_a_time
    def _read(self, sql: str) -> list[RawRow]:
        try:
            if getattr(self, "_read_only", False):
                self.close()  # a read-only account's connection is chosen afresh at each read
                self._read_only = False
            return self.connect().execute(sql).fetchall()
        except sqlite3.OperationalError as exc:
            if not self.writable and "no such table" in str(exc):
                # The file exists but the instance creating it has not written the table yet
                # (a moment's window when the first writer starts): an empty journal.
                return []
            if _is_write_failure(exc):
                found = _os_reason(self.path)
                raise SessionError(
                    _("{path}: cannot read the session ({why})").format(
                        path=self.path, why=f"{exc}{': ' + found if found else ''}"
                    )
                ) from None
            raise SessionError(_("{path}: cannot read the session ({why})").format(path=self.path, why=exc)) from None
        except sqlite3.DatabaseError as exc:
            raise SessionError(
                _("{path}: not a usable session database ({why})").format(path=self.path, why=exc)
            ) from None

    # -- writing ----------------------------------------------------------------------
    @_one_thread_at_a_time
    def append(
        self,
        kind: str,
        author: str,
        payload: dict[str, Any],
        *,
        guard: Callable[[list[Event]], object] | None = None,
        opening: dict[str, Any] | None = None,
    ) -> Event:
        """Append one event, durably, chained to the last one.

        ``guard(events)`` runs inside the write transaction, on the journal as it is at that
        moment, and may raise to refuse the write (e.g. the session was locked meanwhile).
        ``opening`` is added to the payload only when this event turns out to be the journal's
        first (the meeting's starting point, chained like everything else).
        """
        if kind not in KINDS:
            raise ValueError(kind)
        key = None
        if self.signers is not None:
            from panel_tui.signing import find_signing_key

            key = find_signing_key(author, self.signers)  # none listed: Refused (exit 3), nothing written
        conn = self.connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _is_write_failure(exc):
                raise write_failure(self.path, exc) from None
            raise SessionError(_("{path}: cannot write the session ({why})").format(path=self.path, why=exc)) from None
        try:
            if guard is not None:
                guard(self.events())
            seq, prev = self.head()
            if seq == 0 and opening:
                payload = {**payload, **opening}
            payload_text = canonical(payload)
            seq += 1
            at = datetime.now(UTC).isoformat(timespec="microseconds")
            digest = event_hash(prev, seq, kind, author, at, payload_text)
            sig = None
            if key is not None:
                from panel_tui.signing import sign

                sig = sign(signed_bytes(prev, seq, kind, author, at, payload_text), key)
            conn.execute(
                "INSERT INTO events (seq, kind, author, at, payload, prev, hash, sig) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (seq, kind, author, at, payload_text, prev, digest, sig),
            )
            conn.execute("COMMIT")
        except BaseException as exc:
            # SQLite may already have rolled back on its own (a full disk, an I/O error): then
            # there is nothing to roll back, and the original error is the one to report.
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.DatabaseError) and _is_write_failure(exc):
                self.close()  # the next write opens afresh; SQLite tidies its sidecars when it can
                raise write_failure(self.path, exc) from None
            if isinstance(exc, sqlite3.Error):
                raise SessionError(
                    _("{path}: cannot write the session ({why})").format(path=self.path, why=exc)
                ) from None
            raise
        self._share_sidecars()
        return Event(seq, kind, author, at, payload, prev, digest, sig, payload_text)


def _event(row: RawRow) -> Event:
    seq, kind, author, at, payload_text, prev, digest, sig = row
    try:
        payload = json.loads(payload_text)
    except (TypeError, ValueError):
        payload = {"unreadable": str(payload_text)}
    if not isinstance(payload, dict):
        payload = {"unreadable": str(payload_text)}
    return Event(seq, kind, author, at, payload, prev, digest, sig, str(payload_text))


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    problem: str


def check_chain(rows: list[RawRow]) -> list[ChainProblem]:
    """Every break in the hash chain of the rows as stored (``Journal.raw_rows``)."""
    return chain_problems([_event(row) for row in rows])


def chain_problems(events: Sequence[Event]) -> list[ChainProblem]:
    """Every break in the hash chain, naming the event: edited, removed, inserted, reordered or
    backdated (for events already read: the journal is not read again)."""
    problems = []
    prev = GENESIS
    expected = 1
    at_before: str | None = None
    for e in events:
        seq, kind, author, at, stored_prev, digest = e.seq, e.kind, e.author, e.at, e.prev, e.hash
        if seq != expected:
            problems.append(
                ChainProblem(
                    expected,
                    _("event {seq} is missing: the journal jumps from event {before} to {after}").format(
                        seq=expected, before=expected - 1, after=seq
                    ),
                )
            )
            expected = seq
        if stored_prev != prev:
            problems.append(
                ChainProblem(
                    seq,
                    _(
                        "event {seq} ({kind} by {author}) does not follow event {before}: "
                        "removed, inserted or reordered events"
                    ).format(seq=seq, kind=event_words(kind), author=author, before=seq - 1),
                )
            )
        if e.chained_hash != digest:
            problems.append(
                ChainProblem(
                    seq,
                    _(
                        "event {seq} ({kind} by {author} at {at}) was edited: its content no longer matches its hash"
                    ).format(seq=seq, kind=event_words(kind), author=author, at=at),
                )
            )
        elif at_before is not None and str(at) < at_before:
            # Times are written in UTC, same format: text order is time order. A backdated event
            # could pass a signature check with a key that had already expired.
            problems.append(
                ChainProblem(
                    seq,
                    _(
                        "event {seq} ({kind} by {author}) is dated {at}, before the event it follows ({before}): "
                        "backdated"
                    ).format(seq=seq, kind=event_words(kind), author=author, at=at, before=at_before),
                )
            )
        at_before = str(at)
        prev = digest
        expected += 1
    return problems
