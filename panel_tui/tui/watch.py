"""The console's watch on the contest's files and the session journal (the UI polls it, and
wakes its poll at once when the kernel says a sheet was moved into place or the journal
written: ``FolderEvents``).

Textual-free, but it belongs to the console: the command line never polls.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import struct
import sys
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from panel_tui.errors import PanelError
from panel_tui.session import Journal

if TYPE_CHECKING:
    import ctypes

    from panel_tui.meeting import Meeting


class ChangeWatch:
    """Notices, cheaply, that the contest's files or the journal changed since last asked.

    Files by (mtime, size, inode, ctime) from ``stat`` (the ctime: a file rewritten in place
    with the same size and its mtime put back changed all the same); the journal by its last
    event. Polled a few times a second by every console instance, so what one writes all show
    within a second.
    """

    def __init__(self, meeting: Meeting) -> None:
        self.meeting = meeting
        # Its own connection: the poll runs on the console's UI thread while the reload reads
        # through the meeting's in a worker thread (one SQLite connection per thread).
        self.journal = Journal(meeting.journal.path, writable=False)
        self._files = self._file_marks()
        self._head = self._journal_head()
        self.changed_files: tuple[str, ...] = ()

    def _file_marks(self) -> tuple[tuple[int, int, int, int] | None, ...]:
        marks: list[tuple[int, int, int, int] | None] = []
        for path in self.meeting.config.files().values():
            try:
                st = path.stat()
                marks.append((st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns))
            except OSError:
                marks.append(None)
        return tuple(marks)

    def _journal_head(self) -> tuple[int, str]:
        journal = self.journal
        if not journal.path.exists():
            return (0, "")
        try:
            return journal.head()
        except (
            PanelError,
            sqlite3.Error,
            OSError,
        ):  # a database being created by another process: look again next time
            return (-1, "")

    def poll(self) -> tuple[bool, bool]:
        """(files changed, journal changed) since the last poll; ``changed_files`` names the
        files (a file name each, e.g. "scores.csv")."""
        files, head = self._file_marks(), self._journal_head()
        changed = (files != self._files, head != self._head)
        if changed[0]:
            paths = list(self.meeting.config.files().values())
            self.changed_files = tuple(
                path.name for path, was, now in zip(paths, self._files, files, strict=True) if was != now
            )
        self._files, self._head = files, head
        return changed

    def folders(self) -> dict[Path, tuple[frozenset[str], frozenset[str]]]:
        """The folders the watched files are in (a symbolic link's own and its target's), each
        with the names in it that matter: the contest's files, and the journal and its
        write-ahead log (``FolderEvents``)."""
        journal = self.journal.path
        named: dict[Path, tuple[set[str], set[str]]] = {}
        for paths, kind in (
            (self.meeting.config.files().values(), 0),
            ((journal, journal.with_name(journal.name + "-wal")), 1),
        ):
            for path in paths:
                try:
                    places = {path, path.resolve()}
                except (OSError, RuntimeError):  # (a link to itself: the poll says what is wrong with it)
                    places = {path}
                for place in places:
                    named.setdefault(place.parent, (set(), set()))[kind].add(place.name)
        return {folder: (frozenset(files), frozenset(logs)) for folder, (files, logs) in named.items()}


# Linux's inotify (inotify(7)) through the C library: no package, no thread.
_IN_MODIFY, _IN_CLOSE_WRITE, _IN_MOVED_TO = 0x2, 0x8, 0x80
_IN_Q_OVERFLOW = 0x4000
_IN_NONBLOCK, _IN_CLOEXEC = 0o4000, 0o2000000
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of name
_OVERFLOW = _EVENT.pack(-1, _IN_Q_OVERFLOW, 0, 0)  # (the kernel's event when its queue overflowed)


class FolderEvents:
    """Wakes the console's poll as soon as a contest file is moved into place or the journal
    written, rather than at its next tick (``POLL_SECONDS``): the kernel's inotify on the
    folders of the contest's files and of the journal, read from the console's own event loop
    (its descriptor becomes readable).

    Only moments when a file is certainly whole count: a contest file moved into place (the
    README's way to save the sheet: written beside it, then moved over it) and each write of
    the journal (SQLite's readers see only whole transactions). A file written in place is
    left to the tick, as before: its writer may close it between two parts (a header, then
    the rows appended), and a look at the first close would read half of it every time where
    the tick does so by chance. The poll decides whether anything changed, as always; it still
    runs at its tick, for what the kernel is not asked about and what it does not see (a file
    on a network share written from another host)."""

    def __init__(self, libc: ctypes.CDLL, fd: int) -> None:
        self._libc, self._fd = libc, fd
        self._closing = weakref.finalize(self, os.close, fd)  # (a console never unmounted lets go of it too)
        # descriptor -> (contest file names, journal names), as the kernel writes them (bytes)
        self._watches: dict[int, tuple[frozenset[bytes], frozenset[bytes]]] = {}

    @classmethod
    def open(cls, folders: dict[Path, tuple[frozenset[str], frozenset[str]]]) -> FolderEvents | None:
        """Watching ``folders`` (``ChangeWatch.folders``: folder -> the contest's file names
        and the journal's names in it), or None where inotify is not to be had (not Linux, no
        C library, the account's inotify instances used up, no folder there to watch): then
        the poll alone notices, as before."""
        if not sys.platform.startswith("linux"):
            return None
        import ctypes  # (here: not among the first frame's imports)

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        except (OSError, AttributeError):
            return None
        if fd < 0:
            return None
        events = cls(libc, fd)
        events.watch(folders)
        if not events._watches:
            events.close()
            return None
        return events

    def watch(self, folders: dict[Path, tuple[frozenset[str], frozenset[str]]]) -> None:
        """Watch these folders too (the same ones again changes nothing): a folder made since,
        as the journal's is by its first event."""
        mask = _IN_MODIFY | _IN_CLOSE_WRITE | _IN_MOVED_TO
        for folder, names in folders.items():
            wd = self._libc.inotify_add_watch(self._fd, os.fsencode(folder), mask)
            if wd >= 0:  # (one folder under two paths, a link's and its target's: one watch, both names)
                files, journal = self._watches.get(wd, (frozenset(), frozenset()))
                self._watches[wd] = (files | _encoded(names[0]), journal | _encoded(names[1]))

    def fileno(self) -> int:
        return self._fd

    def drain(self) -> bool:
        """Read the events waiting (one read: the caller decides how often); whether any is a
        moment the poll should look now."""
        try:
            data = os.read(self._fd, 64 << 10)
        except BlockingIOError:
            return False
        watched = {name + b"\0" for names in self._watches.values() for name in names[0] | names[1]}
        if _OVERFLOW not in data and not any(name in data for name in watched):
            return False  # (other files' events (names end in NUL): a busy log beside the sheet costs no parse)
        found = False
        at = 0
        while at + _EVENT.size <= len(data):
            wd, mask, _, length = _EVENT.unpack_from(data, at)
            name = data[at + _EVENT.size : at + _EVENT.size + length].rstrip(b"\0")
            at += _EVENT.size + length
            files, journal = self._watches.get(wd, (frozenset(), frozenset()))
            if (
                mask & _IN_Q_OVERFLOW
                or (name in files and mask & _IN_MOVED_TO)
                or (name in journal and mask & (_IN_MODIFY | _IN_CLOSE_WRITE | _IN_MOVED_TO))
            ):
                found = True
        return found

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._closing()


def _encoded(names: frozenset[str]) -> frozenset[bytes]:
    return frozenset(os.fsencode(name) for name in names)
