"""The console's watch on the contest's files and the session journal (the UI polls it).

Textual-free, but it belongs to the console: the command line never polls.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from panel_tui.errors import PanelError
from panel_tui.session import Journal

if TYPE_CHECKING:
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
