"""The command line (the README's "The command line"): a thin layer over the core that never imports Textual.

Exit status: 0 done; 2 bad input or usage; 3 refused (role, or session locked); 1 a bug.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from panel_tui.errors import PanelError, UsageError
from panel_tui.i18n import LANGUAGES, _, choose, ngettext, set_language
from panel_tui.i18n import language as current_language
from panel_tui.text import text_width
from panel_tui.vocabulary import EventKind, ExclusionCode, ExportFormat, Role, event_words, exclusion_words, role_words


def _pad(text: str, columns: int, *, right: bool = False) -> str:
    """``text`` filled to ``columns`` terminal cells (Hangul takes two)."""
    fill = " " * max(0, columns - text_width(text))
    return fill + text if right else text + fill


class _Help(argparse.HelpFormatter):
    """argparse's help, wrapped by terminal cells: a line of Hangul takes twice its length on
    the screen, which argparse's wrapping (``textwrap``, by characters) does not know. It
    overrides ``_split_lines``, the hook argparse's own ``RawTextHelpFormatter`` overrides."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        lines: list[str] = []
        line = ""
        for word in text.split():
            longer = f"{line} {word}" if line else word
            if line and text_width(longer) > width:
                lines.append(line)
                line = word
            else:
                line = longer
        return [*lines, line] if line else lines


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:  # argparse exits 2 too; this keeps our prefix
        self.print_usage(sys.stderr)
        print(f"panel-tui: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    # (The parents are _Parser too, as the subcommands' parser_class wants; only their arguments count.)
    common = _Parser(add_help=False)
    common.add_argument(
        "--lang",
        choices=LANGUAGES,
        default=argparse.SUPPRESS,
        help=_("the language of the screens, messages and exports (default: [contest] language, else the locale)"),
    )
    common.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help=_("the contest's config.toml (default: ./config.toml, else the bundled 2022 demo)"),
    )
    session = _Parser(add_help=False)
    session.add_argument(
        "--session",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help=_("the session database (default: sessions/<contest id>.sqlite)"),
    )
    with_session = [common, session]
    parser = _Parser(
        prog="panel-tui",
        description=_("A console for the expert panel that decides a certification contest."),
        parents=with_session,
    )
    parser.add_argument(
        "--display",
        action="store_true",
        help=_("the read-only display for the shared screen: follows the focus, projector theme"),
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    validate = commands.add_parser(
        "validate", parents=with_session, help=_("check the config and every input file, and what this account may do")
    )
    validate.set_defaults(run=cmd_validate)
    rank = commands.add_parser(
        "rank", parents=with_session, help=_("print the leaderboards, with the panel's decisions")
    )
    rank.add_argument(
        "--format", choices=("table", "json", "csv"), default="table", help=_("how to print them (default: table)")
    )
    rank.add_argument("--category", metavar="ID", help=_("only this category"))
    rank.add_argument(
        "--analysis",
        action="store_true",
        help=_("add how robust each outcome is: other consolidation methods, one evaluator fewer"),
    )
    rank.set_defaults(run=cmd_rank)

    note = commands.add_parser("note", parents=with_session, help=_("add a discussion note"))
    target = note.add_mutually_exclusive_group()
    target.add_argument("--candidate", metavar="ID", help=_("the note is on this candidate"))
    target.add_argument("--category", metavar="ID", help=_("the note is on this category's board"))
    note.add_argument("text", metavar="TEXT", help=_("the note"))
    note.set_defaults(run=cmd_note)
    focus = commands.add_parser("focus", parents=with_session, help=_("put a candidate under discussion"))
    who = focus.add_mutually_exclusive_group(required=True)
    who.add_argument("--candidate", metavar="ID", help=_("the candidate under discussion"))
    who.add_argument("--clear", action="store_true", help=_("nobody is under discussion"))
    focus.set_defaults(run=cmd_focus)
    decide = commands.add_parser("decide", parents=with_session, help=_("record a panel decision"))
    kinds = decide.add_subparsers(dest="decision", metavar="tie|exclude", required=True, parser_class=_Parser)
    tie = kinds.add_parser("tie", parents=with_session, help=_("order a group of fully tied candidates"))
    tie.add_argument("--category", metavar="ID", required=True, help=_("the category of the tie"))
    tie.add_argument("--order", metavar="ID,ID,...", required=True, help=_("the tied candidates, best first"))
    tie.add_argument("--reason", metavar="TEXT", required=True, help=_("why the panel orders them so"))
    tie.set_defaults(run=cmd_decide_tie)
    exclude = kinds.add_parser("exclude", parents=with_session, help=_("remove a candidate from the ranking"))
    exclude.add_argument("--candidate", metavar="ID", required=True, help=_("the candidate to exclude"))
    exclude.add_argument("--code", metavar="CODE", required=True, help=", ".join(ExclusionCode))
    exclude.add_argument("--reason", metavar="TEXT", required=True, help=_("why the panel excludes it"))
    exclude.set_defaults(run=cmd_decide_exclude)
    for name, run, text in (
        ("lock", cmd_lock, _("propose (or, without chair confirmation, make) the lock of the final list")),
        ("confirm-lock", cmd_confirm_lock, _("the chair confirms the proposed lock")),
    ):
        commands.add_parser(name, parents=with_session, help=text).set_defaults(run=run)
    session_cmd = commands.add_parser("session", help=_("the session file itself"))
    session_kinds = session_cmd.add_subparsers(
        dest="session_command", metavar="init", required=True, parser_class=_Parser
    )
    session_kinds.add_parser(
        "init",
        parents=with_session,
        help=_("create the session (the secretary, before the meeting: the file is then theirs)"),
    ).set_defaults(run=cmd_session_init)
    log = commands.add_parser("log", parents=with_session, help=_("print the journal"))
    log.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help=_("json: every event with the bytes its author signed (base64) and the signature"),
    )
    log.set_defaults(run=cmd_log)
    verify = commands.add_parser(
        "verify",
        parents=with_session,
        help=_("recompute the final list and check the files and the journal against the lock"),
    )
    verify.add_argument("--fingerprint", metavar="FP", help=_("the fingerprint the list was announced with"))
    verify.set_defaults(run=cmd_verify)
    changes = commands.add_parser(
        "changes",
        parents=with_session,
        help=_("what changed in the final list since the last lock proposal (or the start of the meeting)"),
    )
    changes.add_argument(
        "--format", choices=("table", "json"), default="table", help=_("how to print it (default: table)")
    )
    changes.set_defaults(run=cmd_changes)
    evaluators = commands.add_parser(
        "evaluators",
        parents=[common],
        help=_("evaluator calibration: deviation from the consolidated scores, outliers"),
    )
    evaluators.add_argument(
        "--format", choices=("table", "json"), default="table", help=_("how to print it (default: table)")
    )
    evaluators.set_defaults(run=cmd_evaluators)
    serve = commands.add_parser("serve", parents=with_session, help=_("the read-only display in a browser"))
    serve.add_argument("--host", default="127.0.0.1", help=_("address to listen on (default: loopback only)"))
    serve.add_argument("--port", type=int, default=8000, help=_("port to listen on (default 8000)"))
    serve.add_argument(
        "--font-size",
        type=int,
        default=16,
        metavar="PX",
        help=_("terminal font size in the browser, e.g. 24 for a large room (default 16)"),
    )
    serve.add_argument(
        "--max-clients",
        type=int,
        default=16,
        metavar="N",
        help=_("browser tabs showing the display at once, one process each (default 16)"),
    )
    serve.set_defaults(run=cmd_serve)
    export = commands.add_parser("export", parents=with_session, help=_("write the locked final list"))
    export.add_argument(
        "--format", choices=[str(f) for f in ExportFormat], required=True, help=_("the file format to write")
    )
    export.add_argument("--out", metavar="DIR", required=True, type=Path, help=_("the folder to write it into"))
    export.set_defaults(run=cmd_export)
    return parser


def _load(args: argparse.Namespace, *, rows: bool = False):
    from panel_tui.inputs.contest import load_contest

    return load_contest(_config(args), reads_rows=rows)


def _config(args: argparse.Namespace):
    from panel_tui.config import find_config, load_config

    # The contest's own words (names, labels) in the language of the messages, where its files
    # give them in it.
    return load_config(find_config(getattr(args, "config", None))).in_language(current_language())


def _meeting(args: argparse.Namespace, *, writable: bool = True):
    from panel_tui.meeting import Meeting

    config = _config(args)
    return Meeting(config, _session_path(args, config), writable=writable)


def _session_path(args: argparse.Namespace, config) -> Path:
    """The session the command works on: --session, else sessions/<contest id>.sqlite here."""
    from panel_tui.session import default_path

    given = getattr(args, "session", None)
    return Path(given) if given else default_path(config)


def _reader(args: argparse.Namespace):
    """The meeting, read-only, for a command that shows what it recorded; says so on stderr
    when there is no session where it looked (run from elsewhere than the contest's folder,
    the panel's decisions would be silently missing)."""
    meeting = _meeting(args, writable=False)
    if not meeting.journal.path.exists():
        print(
            "panel-tui: "
            + _(
                "note: no session at {path}: nothing recorded is shown "
                "(run from the contest's folder, or give --session PATH)"
            ).format(path=meeting.journal.path),
            file=sys.stderr,
        )
    return meeting


def cmd_note(args: argparse.Namespace) -> int:
    event = _meeting(args).note(args.text, candidate=args.candidate, category=args.category)
    print(_("note recorded (event {seq}, by {author})").format(seq=event.seq, author=event.author))
    return 0


def cmd_focus(args: argparse.Namespace) -> int:
    meeting = _meeting(args)
    event = meeting.focus(None if args.clear else args.candidate)
    print(
        _("focus: {candidate} (event {seq}, by {author})").format(
            candidate=args.candidate or _("nobody"), seq=event.seq, author=event.author
        )
    )
    return 0


def cmd_decide_tie(args: argparse.Namespace) -> int:
    order = [c.strip() for c in args.order.split(",") if c.strip()]
    meeting = _meeting(args)
    event = meeting.decide_tie(args.category, order, args.reason)
    print(
        _("tie order recorded for {category}: {order} (event {seq}, by {author})").format(
            category=meeting.config.category(args.category).label,
            order=" > ".join(order),
            seq=event.seq,
            author=event.author,
        )
    )
    return 0


def cmd_decide_exclude(args: argparse.Namespace) -> int:
    event = _meeting(args).exclude(args.candidate, args.code, args.reason)
    print(
        _("{candidate} excluded ({code}) (event {seq}, by {author})").format(
            candidate=args.candidate, code=exclusion_words(args.code), seq=event.seq, author=event.author
        )
    )
    return 0


def _receipt_lines(receipt) -> list[str]:
    if not receipt.confirmed:
        # The fingerprint binds the confirmation too: there is none before the chair's.
        return [
            "",
            _("list digest {digest} (the fingerprint comes with the confirmation)").format(digest=receipt.digest),
        ]
    return [
        "",
        "    " + _("FINGERPRINT  {fingerprint}").format(fingerprint=receipt.fingerprint),
        "",
        _("list digest {digest}").format(digest=receipt.digest),
        _("lock seal   {seal} (the list, the files, the signed proposal and confirmation)").format(seal=receipt.seal),
    ]


def cmd_lock(args: argparse.Namespace) -> int:
    receipt = _meeting(args).propose_lock()
    if receipt.confirmed:
        print(_("the final list is locked"))
    else:
        print(
            _("lock proposed by {author} (event {seq}); a chair must confirm it with `panel-tui confirm-lock`").format(
                author=receipt.proposal.author, seq=receipt.proposal.seq
            )
        )
    print("\n".join(_receipt_lines(receipt)))
    return 0


def cmd_confirm_lock(args: argparse.Namespace) -> int:
    receipt = _meeting(args).confirm_lock()
    print(
        _("the final list is locked: proposed by {proposer}, confirmed by {chair}").format(
            proposer=receipt.proposal.author, chair=receipt.confirmation.author
        )
    )
    print("\n".join(_receipt_lines(receipt)))
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    report = _meeting(args, writable=False).verify(args.fingerprint)
    good, bad = _("ok"), _("FAIL")
    mark = max(text_width(good), text_width(bad))
    for ok, text in report.findings:
        word = good if ok else bad
        print(f"{word}{' ' * (mark - text_width(word))}  {text}")
    print(_("verified: everything holds") if report.ok else _("NOT verified: see FAIL above"))
    return 0 if report.ok else 2


def cmd_log(args: argparse.Namespace) -> int:
    from panel_tui.meeting import decision_text
    from panel_tui.text import one_line

    meeting = _reader(args)
    state = meeting.state()
    events = state.events
    if args.format == "json":
        # Each event with the exact bytes its author signed and the signature: anyone can check
        # one with `ssh-keygen -Y verify` (README).
        import base64

        doc = [
            {
                "seq": e.seq,
                "kind": e.kind,
                "author": e.author,
                "at": e.at,
                "payload": e.payload,
                "prev": e.prev,
                "hash": e.hash,
                "signed": base64.b64encode(e.signed_bytes).decode("ascii"),
                "signature": e.sig,
                "counts": e.seq not in state.untrusted,
                "why_not": state.untrusted.get(e.seq),
            }
            for e in events
        ]
        sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
        return 0
    lock = state.lock
    for e in events:
        p = e.payload
        if e.seq in state.untrusted:
            what = _("does not count: {why}; as stored: {payload}").format(
                why=state.untrusted[e.seq], payload=e.payload_text[:300]
            )
        elif e.kind == EventKind.NOTE:
            about = p.get("candidate_id") or p.get("category") or _("meeting")
            what = f"[{about}] {p['text']}"
        elif e.kind == EventKind.FOCUS:
            what = p.get("candidate_id") or _("(nobody)")
        elif e.kind in (EventKind.TIE_ORDER, EventKind.EXCLUSION):
            what = decision_text(e.kind, p, meeting.config.labels)
        elif e.kind == EventKind.LOCK_PROPOSED:
            what = _("list digest {digest}").format(digest=str(p.get("digest"))[:16])
        elif lock is not None and lock.confirmation is not None and e.seq == lock.confirmation.seq:
            what = _("fingerprint {fingerprint}").format(fingerprint=lock.fingerprint)
        else:
            what = _("does not count: {why}").format(why=state.untrusted.get(e.seq) or _("not the lock"))
        # One event, one line: a newline in a note cannot forge the next entry. The author and
        # the kind in columns by terminal cells (Hangul takes two).
        author = _pad(one_line(e.author), 12)
        kind = _pad(event_words(e.kind), 15)
        print(f"{e.seq:>5}  {e.at[:19].replace('T', ' ')}Z  {author} {kind} {one_line(what)}")
    for line in state.damage:
        print(
            "panel-tui: " + _("the journal is damaged: {problem} (run `panel-tui verify`)").format(problem=line),
            file=sys.stderr,
        )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from panel_tui.errors import Refused
    from panel_tui.export import export

    meeting = _meeting(args, writable=False)
    lock = meeting.state().lock
    if lock is None:
        raise Refused(_("exports come only from the locked final list, and this session is not locked"))
    path = export(
        lock,
        args.format,
        args.out,
        meeting.config.contest.id,
        decimals=meeting.config.scoring.decimals,
        meeting=meeting,
    )
    print(_("wrote {path} (fingerprint {fingerprint})").format(path=path, fingerprint=lock.fingerprint))
    return 0


def run_console(args: argparse.Namespace) -> int:
    """The Textual console (the only path that imports Textual)."""
    from panel_tui.tui.app import PanelApp

    meeting = _meeting(args)
    reader = _meeting(args, writable=False)
    # The files are read in the console, after its first frame; should they be bad, it ends
    # and the message is the one every command gives, with the same exit status.
    app = PanelApp(meeting, reader, display=args.display)
    app.run()
    if app.startup_error is not None:
        error, status = app.startup_error
        print(f"panel-tui: {error}", file=sys.stderr)
        return status
    return app.return_code or 0


def cmd_changes(args: argparse.Namespace) -> int:
    from panel_tui.meeting import what_changed

    meeting = _reader(args)
    state = meeting.state()
    changes = what_changed(state, meeting.standings(state), meeting.data())
    if args.format == "json":
        sys.stdout.write(json.dumps(changes.to_json(), ensure_ascii=False) + "\n")
        return 0
    from panel_tui.text import one_line

    print(
        _("What changed since {since} ({basis}):").format(since=one_line(changes.since), basis=one_line(changes.basis))
    )
    labels = meeting.config.labels
    print(
        "\n".join(f"  {one_line(line)}" for line in changes.lines(labels, meeting.config.scoring.decimals))
        or "  " + _("nothing")
    )
    return 0


def cmd_evaluators(args: argparse.Namespace) -> int:
    from panel_tui.analysis import OUTLIER_Z, calibration
    from panel_tui.engine import standings

    data = _load(args, rows=True)
    table = calibration(data, standings(data))
    if table.is_empty():
        raise UsageError(_("the score sheet has no evaluator_id column: there is nothing to calibrate"))
    if args.format == "json":
        sys.stdout.write(json.dumps(table.to_dicts(), ensure_ascii=False) + "\n")
        return 0
    from panel_tui.text import one_line

    areas = [c for c in table.columns if c.startswith("deviation_")]
    print(
        _(
            "Evaluator calibration: mean deviation from the consolidated score, in percentage points of each "
            "indicator's maximum; outlier when |z| > {z}"
        ).format(z=f"{OUTLIER_Z:g}")
    )
    header = (
        _pad(_("evaluator"), 10)
        + " "
        + _pad(_("scores"), 6, right=True)
        + " "
        + _pad(_("mean"), 7, right=True)
        + " "
        + " ".join(_pad(one_line(c.removeprefix("deviation_")), 7, right=True) for c in areas)
    )
    print(header + f" {'z':>6}")
    for row in table.iter_rows(named=True):
        cells = " ".join(f"{row[c]:>+7.2f}" if row[c] is not None else f"{'':>7}" for c in areas)
        z = "" if row["z"] is None else f"{row['z']:+.2f}"
        flag = "  " + _("OUTLIER") if row["outlier"] else ""
        print(
            f"{_pad(one_line(row['evaluator_id']), 10)} {row['scores']:>6} {row['mean_deviation']:>+7.2f} {cells} {z:>6}{flag}"
        )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from panel_tui.config import find_config
    from panel_tui.serve import DisplayServer, display_command, is_loopback

    meeting = _meeting(args, writable=False)
    meeting.data()  # bad input is reported now, not in every browser tab
    config_path = find_config(getattr(args, "config", None))
    if not 0 < args.port < 65536 or not 6 <= args.font_size <= 96 or not 1 <= args.max_clients <= 256:
        raise UsageError(_("--port must be 1-65535, --font-size 6-96 and --max-clients 1-256"))
    if not is_loopback(args.host):
        print(
            "panel-tui: "
            + _(
                "warning: serving on {host}: anyone who can reach port {port} can see the display (it is read-only)"
            ).format(host=args.host, port=args.port),
            file=sys.stderr,
        )
    url = f"http://{args.host}:{args.port}/"
    print(
        _("serving the display of {contest} at {url} (font size {size}, at most {tabs} tabs); Ctrl+C stops").format(
            contest=repr(meeting.config.contest.name), url=url, size=args.font_size, tabs=args.max_clients
        )
    )
    sys.stdout.flush()
    DisplayServer(
        display_command(config_path, meeting.journal.path, current_language()),
        host=args.host,
        port=args.port,
        title=meeting.config.contest.name,
        font_size=args.font_size,
        max_clients=args.max_clients,
    ).serve()
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    import contextlib

    from panel_tui.engine import Decisions, standings
    from panel_tui.report import validation_summary

    data = _load(args, rows=True)  # (its summary reads the rows: who scored whom)
    from panel_tui.text import one_line

    # The boards as the meeting has them: with the session's decisions, when there is one to
    # read (an excluded pending candidate, an ordered tie no longer warn).
    decisions = Decisions()
    session = _session_path(args, data.config)
    if session.exists():
        from panel_tui.meeting import Meeting

        with contextlib.suppress(PanelError, OSError):  # access and trust: _access_summary, verify
            decisions = Meeting(data.config, session, writable=False).state().decisions
    checked, warnings = validation_summary(data, standings(data, decisions))
    access, access_warnings = _access_summary(args, data.config)
    checked += access
    warnings += access_warnings
    for line in checked:
        print(_("ok  {line}").format(line=one_line(line)))
    for line in warnings:
        print(_("warning  {line}").format(line=one_line(line)))
    print(ngettext("valid: {n} warning", "valid: {n} warnings", len(warnings)).format(n=len(warnings)))
    return 0


def _access_summary(args: argparse.Namespace, config) -> tuple[list[str], list[str]]:
    """For the running account: can it read and write the session, and sign its events."""
    from panel_tui.session import Journal, account, role_of

    who = account()
    path = _session_path(args, config)
    journal = Journal(path, writable=False)
    role = role_of(config.roles, who)
    role_word = role_words(role)
    ok: list[str] = []
    warn: list[str] = []
    problem = journal.write_problem()
    if path.exists():
        readable = os.access(path, os.R_OK)
        if readable and not problem:
            ok.append(
                _("session {path}: {who} ({role}) can read and write it").format(path=path, who=who, role=role_word)
            )
        elif readable:
            (ok if role == Role.VIEWER else warn).append(
                _("session {path}: {who} ({role}) can read it, not write it: {problem}").format(
                    path=path, who=who, role=role_word, problem=problem
                )
            )
        else:
            warn.append(
                _("session {path}: {who} ({role}) cannot read it (ask for read permission; see the README)").format(
                    path=path, who=who, role=role_word
                )
            )
    elif problem:
        (ok if role == Role.VIEWER else warn).append(
            _("session {path}: not started yet, and {who} ({role}) cannot create it: {problem}").format(
                path=path, who=who, role=role_word, problem=problem
            )
        )
    elif role == Role.SECRETARY:
        ok.append(
            _("session {path}: not started yet; {who} (secretary) opens it with `panel-tui session init`").format(
                path=path, who=who
            )
        )
    else:
        ok.append(
            _("session {path}: not started yet; the secretary opens it (`panel-tui session init`)").format(path=path)
        )
    if path.exists() and os.access(path, os.R_OK):
        from panel_tui.meeting import Meeting

        try:
            reader = Meeting(config, path, writable=False, who=who)
            mismatch = reader.roles_problem(reader.journal.events())
        except PanelError as exc:
            mismatch = str(exc)
        if mismatch and role != Role.VIEWER:
            warn.append(
                _("session {path}: {who} cannot write with this config: {problem}").format(
                    path=path, who=who, problem=mismatch
                )
            )
    if config.contest.signers is not None and role == Role.VIEWER:
        ok.append(
            _("signed journal: {who} is a viewer here: reads and verifies, signs and writes nothing").format(who=who)
        )
    elif config.contest.signers is not None:
        from panel_tui.signing import AllowedSigners, signing_check

        signers = AllowedSigners.load(config.contest.signers)
        can_sign, status = signing_check(who, signers)
        (ok if can_sign or role == Role.VIEWER else warn).append(_("signed journal: {status}").format(status=status))
        # Check that the keys listed for you are yours: a key you do not know could sign as you.
        keys = [k.fingerprint for k in signers.keys_for(who)]
        if keys:
            ok.append(
                _("keys {signers} lists for {who} (check they are all yours): {keys}").format(
                    signers=signers.name, who=who, keys=", ".join(keys)
                )
            )
    else:
        ok.append(
            _(
                "unsigned journal (no [contest] signers): protects against accidents, not against an account on this host"
            )
        )
    return ok, warn


def cmd_session_init(args: argparse.Namespace) -> int:
    """The secretary creates the session file, so that it is theirs in the shared folder."""
    from panel_tui.errors import Refused

    meeting = _meeting(args)
    if meeting.role != Role.SECRETARY:
        raise Refused(
            _("the secretary creates the session; account {who} is a {role}").format(
                who=repr(meeting.who), role=role_words(meeting.role)
            )
        )
    path = meeting.journal.path
    existed = path.exists()
    if existed and path.stat().st_uid != os.geteuid():
        import pwd

        try:
            owner = pwd.getpwuid(path.stat().st_uid).pw_name
        except KeyError:
            owner = f"uid {path.stat().st_uid}"
        raise Refused(
            _(
                "{path}: the session file already exists and belongs to {owner}, not to the secretary "
                "{who}: whoever owns it may move or empty it; ask an administrator to remove it "
                "before the meeting, then run `panel-tui session init` again"
            ).format(path=path, owner=owner, who=meeting.who)
        )
    meeting.journal.connect()
    opened = ""
    if meeting.journal.head()[0] == 0:
        # The first event (nobody under discussion yet) opens the meeting: it keeps the list
        # as it stands, the roles and the signers file's digest for the whole meeting.
        event = meeting.focus(None)
        opened = _("; opened by {author} in event {seq}, which keeps the roles and the list as it stands").format(
            author=event.author, seq=event.seq
        )
    st = path.stat()
    import stat as stat_module

    print(
        _("session {path}: {what} ({mode}, owner uid {uid}){opened}").format(
            path=path,
            what=_("already there") if existed else _("created"),
            mode=stat_module.filemode(st.st_mode),
            uid=st.st_uid,
            opened=opened,
        )
    )
    return 0


def cmd_rank(args: argparse.Namespace) -> int:
    from panel_tui.engine import standings, to_json_text
    from panel_tui.report import csv_text, method_name, table

    meeting = _reader(args)
    config = meeting.config
    if args.category is not None and args.category not in {c.id for c in config.categories}:
        known = ", ".join(c.id for c in config.categories)
        raise UsageError(
            _("unknown category {category} (the config has: {known})").format(category=repr(args.category), known=known)
        )
    state = meeting.state()
    data = meeting.data(placed=args.analysis)
    if args.analysis:
        from panel_tui.analysis import prepare

        prepare(data)  # (any rows it needs load while the standings are computed)
    result = standings(data, state.decisions)
    locked = state.lock is not None
    for board in result.boards:
        for order in board.stale_tie_orders:
            print(
                "panel-tui: "
                + _(
                    "warning: the tie order {order} (event {seq}) no longer matches a tied group in {category}; "
                    "it is not applied"
                ).format(order=", ".join(order.order), seq=order.seq, category=board.category.id),
                file=sys.stderr,
            )
    if locked:
        from panel_tui.meeting import final_list

        if final_list(result) != state.lock.final:
            print(
                "panel-tui: " + _("warning: the files no longer give the locked list; run `panel-tui verify`"),
                file=sys.stderr,
            )
    analysis = None
    if args.analysis:
        from panel_tui.analysis import ANALYSIS, robustness_table

        analysis = robustness_table(data, state.decisions)
    if args.format == "json":
        sys.stdout.write(to_json_text(result, locked=locked, category=args.category, extra=analysis) + "\n")
    elif args.format == "csv":
        sys.stdout.write(csv_text(result, category=args.category))
    else:
        sys.stdout.write(table(result, category=args.category, locked=locked))
    if analysis is not None and args.format != "json":
        fragile = {
            cid: a
            for cid, a in zip(analysis["candidate_id"].to_list(), analysis[ANALYSIS].to_list(), strict=True)
            if a["verdict"] == "fragile"
        }
        print(
            "\n"
            + ngettext(
                "robustness: {n} fragile certification outcome",
                "robustness: {n} fragile certification outcomes",
                len(fragile),
            ).format(n=len(fragile)),
            file=sys.stderr if args.format == "csv" else sys.stdout,
        )
        for cid, a in fragile.items():
            methods = ", ".join(f"{method_name(m)} {'✔' if c else '✘'}" for m, c in a["certified"].items())
            without = ", ".join(a["leave_one_out"]["certification_flips_without"]) or _("nobody")
            print(
                "  "
                + _("{candidate}: certified under {methods}; flips without {without}").format(
                    candidate=cid, methods=methods, without=without
                ),
                file=sys.stderr if args.format == "csv" else sys.stdout,
            )
    return 0


def program() -> NoReturn:
    """The ``panel-tui`` program (and ``python -m panel_tui``): ``main``; after a command (not
    the console), the process then ends at once, its output flushed, any cache entry it was
    writing written and its session closed (SQLite checkpoints the -wal into the session
    file and removes its sidecars, which a copy of the file relies on): the frames it holds (a few hundred megabytes at 10,000 candidates)
    are left to the OS rather than freed one by one."""
    code = main()
    if not _COMMAND_RAN:
        raise SystemExit(code)
    cache = sys.modules.get("panel_tui.inputs.cache")
    if cache is not None:
        cache.wait_for_writes()
    session = sys.modules.get("panel_tui.session")
    if session is not None:
        session.close_journals()  # (the -wal checkpointed into the session file, as at a normal exit)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`rank | head`), a closed stream
            stream.flush()
    os._exit(code)


_COMMAND_RAN = False  # whether main() ran a command (set by main; the console is no command)


def main(argv: list[str] | None = None) -> int:
    global _COMMAND_RAN
    from panel_tui.text import VisibleStream

    # Text from the files and the journal is data: no escape sequence from a name, a note or a
    # bad cell reaches the terminal, whatever the command prints (the README's "Text from the files is shown as text"). JSON keeps the
    # exact strings, with JSON escapes for the characters that would drive a terminal.
    stdout, stderr = sys.stdout, sys.stderr
    sys.stderr = VisibleStream(stderr)
    try:
        language = _language(argv)
        set_language(language)
        _argparse_in(language)
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is not None:  # (the console draws on the terminal itself)
            sys.stdout = VisibleStream(stdout, json_document=getattr(args, "format", None) == "json")
        _COMMAND_RAN = args.command is not None
        return _run(args)
    finally:
        sys.stdout, sys.stderr = stdout, stderr


def _language(argv: list[str] | None) -> str:
    """The language of this run, known before the arguments are checked (so that argparse's
    own messages and the help are in it): --lang, else the config's, else the locale's."""
    from panel_tui.config import configured_language, find_config

    early = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    early.add_argument("--lang", choices=LANGUAGES)
    early.add_argument("--config")
    try:
        known, _rest = early.parse_known_args(argv)
    except argparse.ArgumentError:  # a bad --lang: the real parser says so
        known = argparse.Namespace(lang=None, config=None)
    configured = None if known.lang else configured_language(find_config(known.config))
    return choose(known.lang, configured)


def _argparse_in(language: str) -> None:
    """argparse's own words ("usage:", "options", "show this help message and exit", "invalid
    choice", "the following arguments are required") in ``language``, from our catalogue of
    them (``locale/<lang>/LC_MESSAGES/argparse.po``: argparse's English messages, which are its
    msgids).

    argparse looks each one up through the ``_`` and ``ngettext`` it imported from gettext,
    module globals read when the message is made (CPython 3.11 to 3.13); pointing those two
    at our catalogue is the route that changes nothing else in the process. gettext's own way
    (``textdomain`` and ``bindtextdomain`` for the default domain, the language from
    ``LANGUAGE``) would change the domain and the environment of every library in the process,
    and could not follow ``--lang``. tests/test_cli_i18n.py names these two globals."""
    import gettext

    from panel_tui.i18n import LOCALE_DIR

    if language == "en":
        argparse._ = gettext.gettext  # type: ignore[attr-defined]
        argparse.ngettext = gettext.ngettext  # type: ignore[attr-defined]
        return
    catalogue = gettext.translation("argparse", LOCALE_DIR, languages=[language], fallback=True)
    argparse._ = catalogue.gettext  # type: ignore[attr-defined]
    argparse.ngettext = catalogue.ngettext  # type: ignore[attr-defined]


def _run(args: argparse.Namespace) -> int:

    try:
        if args.command is None:
            return run_console(args)
        return args.run(args)
    except PanelError as exc:
        print(f"panel-tui: {exc}", file=sys.stderr)
        return exc.exit_status
    except BrokenPipeError:  # e.g. `panel-tui rank | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
