"""Exports of the locked final list: CSV, XLSX, JSON and Markdown, each with the fingerprint.

Only a ``LockReceipt`` can be exported: the list comes from the lock itself, never from a
fresh computation, so what is announced is exactly what the panel locked.

Exports are inert (the README's "Text from the files is shown as text"): the XLSX writes every text as a string cell (no formula, link or
number is made from a name); the CSV prefixes a text starting with ``= + - @``, tab or CR with
``'`` so that a spreadsheet shows it instead of running it; the Markdown escapes every
Markdown and HTML special and shows a newline as ``<br>``. The JSON keeps every string exact.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from panel_tui.errors import PanelError
from panel_tui.i18n import _, ngettext
from panel_tui.meeting import LockReceipt, Meeting, decision_text
from panel_tui.report import method_name, readable
from panel_tui.session import shared_folder
from panel_tui.text import inert_columns, markdown_text
from panel_tui.vocabulary import ENTRY_FIELDS, ExportFormat

FORMATS: tuple[str, ...] = tuple(ExportFormat)
MINUTES: tuple[str, ...] = (ExportFormat.MINUTES_MD, ExportFormat.MINUTES_HTML, ExportFormat.MINUTES_PDF)


def file_name(fmt: str, contest_id: str) -> str:
    """The export's file name: final-list-2022.csv, or minutes-2022.pdf for the minutes."""
    if fmt in MINUTES:
        return f"minutes-{contest_id}.{fmt.removeprefix('minutes-')}"
    return f"final-list-{contest_id}.{fmt}"


class ExportError(PanelError):
    """The export cannot be written (exit status 2), naming the folder or file and why."""

    exit_status = 2


def _frame(receipt: LockReceipt, final: dict[str, Any]) -> pl.DataFrame:
    rows = []
    for category in final["categories"]:
        for entry in category["entries"]:
            row = {"category": category["id"], "category_label": category["label"]}
            row.update({f: entry[f] for f in ENTRY_FIELDS})
            row.update({f"area_{a}": v for a, v in entry["areas"].items()})
            row["fingerprint"] = receipt.fingerprint
            rows.append(row)
    return pl.DataFrame(rows, infer_schema_length=None)


def _decision_text(decision: dict[str, Any], labels: dict[str, str] | None = None) -> str:
    return decision_text(decision["kind"], decision, labels)


def export(
    receipt: LockReceipt,
    fmt: str,
    out_dir: Path,
    contest_id: str,
    *,
    decimals: int = 2,
    meeting: Meeting | None = None,
) -> Path:
    """Write the final list in ``fmt`` into ``out_dir``; return the file written. The minutes
    (``MINUTES``) are written from the whole journal: they need the ``meeting``.

    The file is written beside its name and then moved over it: nobody ever reads half an
    export, and in a group-shared folder any member can replace a colleague's earlier export
    (the folder's write permission decides, not the old file's owner). A folder that cannot
    be written is an ``ExportError`` (exit status 2) naming it and the reason.
    """
    if fmt not in FORMATS:
        raise ValueError(fmt)
    if fmt in MINUTES:
        from panel_tui.minutes import require_meeting

        require_meeting(meeting)
    path = out_dir / file_name(fmt, contest_id)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=out_dir)
        os.close(fd)
    except OSError as exc:
        raise ExportError(
            _("{folder}: cannot write the export here ({why})").format(folder=out_dir, why=exc.strerror)
        ) from None
    try:
        if fmt in MINUTES:
            from panel_tui.minutes import write

            write(require_meeting(meeting), fmt, Path(temporary))
        else:
            # Names and labels in the language shown; JSON as the lock recorded them.
            shown = meeting.final_shown(receipt) if meeting is not None else receipt.final
            _write(receipt, fmt, Path(temporary), decimals, shown)
        mode = 0o666 & ~_umask()  # as a plain new file would be, not mkstemp's 0600
        if shared_folder(out_dir):
            mode |= 0o660  # a group-shared folder: the panel reads (and may replace) it, whatever the umask
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as exc:
        raise ExportError(_("{path}: cannot write the export ({why})").format(path=path, why=exc.strerror)) from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path


def _umask() -> int:
    """The process's umask, read without setting it (os.umask would change it for every
    thread for a moment); 022 where /proc does not say."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _write(receipt: LockReceipt, fmt: str, path: Path, decimals: int, shown: dict[str, Any]) -> None:
    if fmt == ExportFormat.CSV:
        # UTF-8 with BOM so Excel opens Hangul names correctly.
        path.write_bytes(b"\xef\xbb\xbf" + inert_columns(readable(_frame(receipt, shown))).write_csv().encode("utf-8"))
    elif fmt == ExportFormat.XLSX:
        _write_xlsx(receipt, path, decimals, shown)
    elif fmt == ExportFormat.JSON:
        doc = {
            **receipt.final,
            "fingerprint": receipt.fingerprint,
            "digest": receipt.digest,
            "files": receipt.files,
            "proposed_by": receipt.proposal.author,
            "proposed_at": receipt.proposal.at,
            "confirmed_by": receipt.confirmation.author if receipt.confirmation else None,
            "confirmed_at": receipt.confirmation.at if receipt.confirmation else None,
        }
        path.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    elif fmt == ExportFormat.MD:
        path.write_text(markdown(receipt, shown), encoding="utf-8")


def _write_xlsx(receipt: LockReceipt, path: Path, decimals: int, shown: dict[str, Any]) -> None:
    import xlsxwriter

    frame = readable(_frame(receipt, shown))
    # Every text is a string cell: never a formula (``=HYPERLINK(…)``), a link or a number.
    inert = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    with xlsxwriter.Workbook(str(path), inert) as workbook:
        # Stamped with the lock's time, not the time of writing: two exports of one lock are
        # the same bytes (xlsxwriter dates its zip entries 1980-01-01 already).
        locked = receipt.confirmation or receipt.proposal
        workbook.set_properties({"created": datetime.fromisoformat(locked.at)})
        # Numbers carry the contest's decimals (polars would write three), as the list shows them.
        frame.write_excel(workbook, worksheet=_("Final list"), autofit=True, float_precision=decimals)
        sheet = workbook.add_worksheet(_("Lock"))
        at = _("{who} at {when}")
        rows = [
            (_("Contest"), receipt.final["contest"]),
            (_("Fingerprint"), receipt.fingerprint),
            (_("Lock digest (SHA-256)"), receipt.digest),
            (_("Proposed by"), at.format(who=receipt.proposal.author, when=receipt.proposal.at)),
            (
                _("Confirmed by"),
                at.format(who=receipt.confirmation.author, when=receipt.confirmation.at)
                if receipt.confirmation
                else "",
            ),
        ]
        rows += [
            (_("{name} file").format(name=name), f"{f['path']} sha256 {f['sha256']}")
            for name, f in receipt.files.items()
        ]
        rows += [(c["id"], _decision_text(d)) for c in receipt.final["categories"] for d in c["decisions"]]
        for i, (key, value) in enumerate(rows):
            sheet.write_string(i, 0, key)
            sheet.write_string(i, 1, value)
        sheet.set_column(0, 0, 24)
        sheet.set_column(1, 1, 90)


def markdown(receipt: LockReceipt, final: dict[str, Any] | None = None) -> str:
    """The final list ready for an announcement, per category (``final``: the lock's list with
    its words in the language shown, ``Meeting.final_shown``)."""
    final = final or receipt.final
    md = markdown_text  # every text from the files and the journal
    lines = [_("# Final certification list: contest {contest}").format(contest=md(final["contest"])), ""]
    lines.append(
        _("Locked list, fingerprint **{fingerprint}** (consolidation: {method}).").format(
            fingerprint=receipt.fingerprint, method=method_name(final["method"])
        )
    )
    lines.append("")
    for category in final["categories"]:
        entries = category["entries"]
        certified = [e for e in entries if e["certified"]]
        lines.append(f"## {md(category['label'])}")
        lines.append("")
        lines.append(
            _("Threshold {threshold} % of {points} points.").format(
                threshold=f"{category['threshold']:g}", points=f"{category['max_points']:,.2f}"
            )
            + " "
            + ngettext("Certified: {n} of {total}.", "Certified: {n} of {total}.", len(certified)).format(
                n=len(certified), total=len(entries)
            )
        )
        top = [e for e in entries if e["top"]]
        if top:
            lines.append(_("Highest evaluation: **{name}**.").format(name=md(top[0]["name"])))
        lines.append("")
        rank, candidate, total, grade = _("Rank"), _("Candidate"), _("Total"), _("Grade")
        lines.append(f"| {rank} | {candidate} | {total} | % | {grade} |")
        lines.append("| ---: | --- | ---: | ---: | ---: |")
        for e in certified:
            grade = "" if e["grade"] is None else str(e["grade"])
            lines.append(f"| {e['rank']} | {md(e['name'])} | {e['total']:,.2f} | {e['percent']:.2f} | {grade} |")
        if not certified:
            lines.append("| | " + _("(none)") + " | | | |")
        if category["decisions"]:
            lines.append("")
            lines.append(_("Panel decisions:"))
            lines.extend(
                f"- {md(_decision_text(d, {category['id']: category['label']}))}" for d in category["decisions"]
            )
        lines.append("")
    confirmed = (
        _(", confirmed by {chair} at {when}").format(
            chair=md(receipt.confirmation.author), when=receipt.confirmation.at
        )
        if receipt.confirmation
        else ""
    )
    lines.append(
        _("Proposed by {proposer} at {when}{confirmed}.").format(
            proposer=md(receipt.proposal.author), when=receipt.proposal.at, confirmed=confirmed
        )
        + " "
        + _("Fingerprint {fingerprint}; lock digest `{digest}`.").format(
            fingerprint=receipt.fingerprint, digest=receipt.digest
        )
    )

    return "\n".join(lines) + "\n"
