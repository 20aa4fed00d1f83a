"""Attacks on the signed journal (issue 12, "A lock no account can forge"), mounted for real.

Real OS accounts in group ptpanel (ptsec the secretary, ptchair the chair, ptmember a member),
real ed25519 keys and a real ssh-agent: the secretary signs through the agent (the key file is
removed once loaded, as with ``ssh -A``), the chair with ``~/.ssh/id_ed25519``, the member has a
key that the signers file does not list. The contest is the demo, copied into a folder whose
sessions folder is group-shared, setgid and sticky (3770, group ptpanel), with a signers file
listing the secretary's and the chair's keys. Every command is the real one (``python -m
panel_tui``) run as the account; every attack is what that account could do at its own shell
prompt (sqlite3 and hashlib, ssh-keygen, mv, ln -s) or through the Python API. Each must be
refused or caught as the issue says. Marker ``accounts``: root only (CI), else skipped.
"""

from __future__ import annotations

import base64
import grp
import json
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import accounts
import pytest
from conftest import lower_scores

from panel_tui.config import load_config
from panel_tui.meeting import LockReceipt, Meeting
from panel_tui.session import Journal, check_chain
from panel_tui.signing import PublicKey

SEC, CHAIR, MEMBER = accounts.SECRETARY, accounts.CHAIR, accounts.MEMBER
PRIVATE = "private-notes.txt"  # a file of the secretary's, 0600 in its 0700 home

pytestmark = [
    pytest.mark.system,
    pytest.mark.skipif(
        not (shutil.which("ssh-keygen") and shutil.which("ssh-agent") and shutil.which("ssh-add")),
        reason="OpenSSH's ssh-keygen, ssh-agent and ssh-add are needed (apt install openssh-client)",
    ),
]


# -- the panel: accounts, keys, an agent, contests ------------------------------------------------


@dataclass
class Panel:
    runner: accounts.Runner  # no agent: the chair (key file) and the member
    sec_runner: accounts.Runner  # with the secretary's agent
    agent: accounts.Agent
    pub: dict[str, str]  # login -> its public key line (ptmember's is not listed)
    sec_pub_file: Path  # the secretary's public key; the private half is only in the agent
    roots: list[Path] = field(default_factory=list)

    def run(self, user: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
        """The real command as ``user`` (the secretary through the agent), strict umask."""
        runner = self.sec_runner if user == SEC else self.runner
        r = runner.run(user, *args, cwd=cwd, umask=0o077)
        assert "Traceback" not in r.stderr, r.stderr
        return r

    def ok(self, user: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
        r = self.run(user, *args, cwd=cwd)
        assert r.returncode == 0, (user, args, r.returncode, r.stdout, r.stderr)
        return r

    def script(self, user: str, code: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
        """A Python script of the account's own (the secretary's with its agent)."""
        runner = self.sec_runner if user == SEC else self.runner
        r = accounts.run_as(user, [runner.python, "-c", code, *args], cwd=cwd, env=runner.env)
        return subprocess.CompletedProcess(r.args, r.returncode, r.stdout.decode(), r.stderr.decode())


@pytest.fixture(scope="module")
def panel():
    runner = accounts.accounts_runner()
    runner = accounts.with_env(runner, SSH_AUTH_SOCK=None)
    sec_ssh = accounts.fresh_ssh_dir(SEC)
    sec_pub = accounts.make_key(SEC, sec_ssh / "laptop_key")
    agent = accounts.start_agent(SEC, sec_ssh)
    made = Panel(
        runner, accounts.with_env(runner, SSH_AUTH_SOCK=str(agent.socket)), agent, {}, sec_ssh / "laptop_key.pub"
    )
    try:
        agent.add(sec_ssh / "laptop_key")
        (sec_ssh / "laptop_key").unlink()  # only the agent holds it now
        made.pub[SEC] = sec_pub
        made.pub[CHAIR] = accounts.make_key(CHAIR, accounts.fresh_ssh_dir(CHAIR) / "id_ed25519")
        made.pub[MEMBER] = accounts.make_key(MEMBER, accounts.fresh_ssh_dir(MEMBER) / "id_ed25519")
        yield made
    finally:
        agent.stop()
        for root in made.roots:
            shutil.rmtree(root, ignore_errors=True)
        for user in (SEC, CHAIR, MEMBER):
            accounts.fresh_ssh_dir(user)
            (Path(pwd.getpwnam(user).pw_dir) / PRIVATE).unlink(missing_ok=True)


def new_contest(panel: Panel) -> Path:
    """The demo in a folder of its own, a sticky group-shared sessions folder, a signers file
    listing the secretary's and the chair's keys. The files belong to root (the scoring staff)."""
    root = accounts.shared_contest(confirm=True)
    panel.roots.append(root)
    signers = root / "signers"
    signers.write_text(
        f'{SEC} namespaces="panel-tui" {panel.pub[SEC]}\n{CHAIR} namespaces="panel-tui" {panel.pub[CHAIR]}\n',
        encoding="utf-8",
    )
    os.chmod(signers, 0o644)
    config = root / "config.toml"
    text = config.read_text(encoding="utf-8")
    assert 'conflicts = "data/conflicts.csv"' in text
    config.write_text(
        text.replace('conflicts = "data/conflicts.csv"', 'signers = "signers"\nconflicts = "data/conflicts.csv"'),
        encoding="utf-8",
    )
    sessions = root / "sessions"
    os.chmod(sessions, 0o3770)  # setgid + sticky: only a file's owner may move or remove it
    st = sessions.stat()
    assert stat.S_IMODE(st.st_mode) == 0o3770 and st.st_gid == grp.getgrnam(accounts.GROUP).gr_gid
    return root


def clone(panel: Panel, root: Path) -> Path:
    """A copy of a contest and its session, owners and modes kept (``cp -a``)."""
    copy = Path(tempfile.mkdtemp(prefix="panel-tui-", dir="/tmp"))
    panel.roots.append(copy)
    subprocess.run(["cp", "-a", f"{root}/.", str(copy)], check=True, timeout=60)
    os.chmod(copy, 0o755)
    return copy


def db(root: Path) -> Path:
    return root / "sessions" / "2022.sqlite"


def rows(root: Path) -> list[tuple]:
    with Journal(db(root), writable=False) as journal:
        return journal.raw_rows()


def meeting(root: Path) -> Meeting:
    return Meeting(load_config(root / "config.toml"), db(root), writable=False)


def log_line(panel: Panel, root: Path, seq: int) -> str:
    out = panel.ok(MEMBER, "log", cwd=root).stdout.splitlines()
    return next(line for line in out if line.split()[:1] == [str(seq)])


def propose(panel: Panel) -> Path:
    """A new contest with events: 1 the secretary's note, 2 the chair's note, 3 the tie order,
    4 the exclusion, 5 the secretary's lock proposal; all signed (the secretary's by the agent).

    The proposal records each file's path as well as its digest, so a copy of the contest in
    another folder (``clone``) is stale for a confirmation: a lock is confirmed where proposed."""
    root = new_contest(panel)
    panel.ok(SEC, "note", "--candidate", "C04", "E05 recused: advised Siheung in 2021", cwd=root)
    panel.ok(CHAIR, "note", "--category", "service", "the chair would put S02 above S01", cwd=root)
    panel.ok(
        SEC,
        "decide",
        "tie",
        "--category",
        "service",
        "--order",
        "S01,S02",
        "--reason",
        "Smart City Pass serves more citizens",
        cwd=root,
    )
    panel.ok(
        SEC,
        "decide",
        "exclude",
        "--candidate",
        "C24",
        "--code",
        "withdrawn",
        "--reason",
        "withdrew on 12 Sept",
        cwd=root,
    )
    r = panel.ok(SEC, "lock", cwd=root)
    assert "a chair must confirm" in r.stdout
    assert [(r[1], r[2]) for r in rows(root)] == [
        ("note", SEC),
        ("note", CHAIR),
        ("tie_order", SEC),
        ("exclusion", SEC),
        ("lock_proposed", SEC),
    ]
    assert st_owner(db(root)) == SEC
    return root


@pytest.fixture(scope="module")
def proposed(panel):
    """A proposed lock, to be cloned by the tests that change it."""
    return propose(panel)


def st_owner(path: Path) -> str:
    return pwd.getpwuid(path.lstat().st_uid).pw_name


@dataclass
class Locked:
    root: Path
    fingerprint: str
    confirmed: str  # confirm-lock's output


@pytest.fixture(scope="module")
def locked(panel):
    """A proposed lock confirmed by the chair (key file): event 6."""
    root = propose(panel)
    r = panel.ok(CHAIR, "confirm-lock", cwd=root)
    return Locked(root, r.stdout.split("FINGERPRINT")[1].split()[0], r.stdout)


# -- 1. a forged confirmation -------------------------------------------------------------------

# The secretary, who can write the database (group ptpanel), appends the chair's confirmation
# by hand, chained exactly as the tool chains it: stdlib only. With a public key argument it
# also signs the bytes with that key through the secretary's own agent.
FORGE = r"""
import datetime, hashlib, json, sqlite3, subprocess, sys, tempfile
path, author, key = sys.argv[1], sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else None)
canon = lambda v: json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
conn = sqlite3.connect(path, isolation_level=None)
seq, prev = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
proposal, payload = conn.execute("SELECT seq, payload FROM events WHERE kind = 'lock_proposed'").fetchone()
text = canon({"proposal": proposal, "digest": json.loads(payload)["digest"]})
at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")
data = canon([prev, seq + 1, "lock_confirmed", author, at, text]).encode()
sig = None
if key:
    with tempfile.TemporaryDirectory() as tmp:
        open(f"{tmp}/event", "wb").write(data)
        subprocess.run(["ssh-keygen", "-Y", "sign", "-n", "panel-tui", "-f", key, f"{tmp}/event"], check=True,
                       capture_output=True, stdin=subprocess.DEVNULL)
        sig = open(f"{tmp}/event.sig").read()
conn.execute("INSERT INTO events (seq, kind, author, at, payload, prev, hash, sig) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
             (seq + 1, "lock_confirmed", author, at, text, prev, hashlib.sha256(data).hexdigest(), sig))
print(seq + 1)
"""


def forge(panel: Panel, root: Path, *key: str) -> int:
    r = panel.script(SEC, FORGE, str(db(root)), CHAIR, *key, cwd=root)
    assert r.returncode == 0, r.stderr
    return int(r.stdout)


def test_a_confirmation_forged_in_the_database_does_not_count(panel, proposed):
    root = clone(panel, proposed)
    seq = forge(panel, root)
    stored = rows(root)
    assert seq == 6 and stored[-1][1:3] == ("lock_confirmed", CHAIR) and stored[-1][7] is None
    assert check_chain(stored) == []  # the chain alone cannot tell: it is chained correctly

    r = panel.run(MEMBER, "verify", cwd=root)
    assert r.returncode == 2, r.stdout
    assert f"FAIL  event 6 (lock_confirmed by {CHAIR}): signature refused: the event carries no signature" in r.stdout
    assert "the session is not locked" in r.stdout and "NOT verified" in r.stdout

    assert "does not count: the event carries no signature" in log_line(panel, root, 6)
    assert "fingerprint" not in log_line(panel, root, 6)

    r = panel.run(SEC, "export", "--format", "md", "--out", str(root / "sessions" / "out"), cwd=root)
    assert r.returncode == 3 and "this session is not locked" in r.stderr
    assert not (root / "sessions" / "out").exists()

    m = meeting(root)
    try:
        state = m.state()
        assert state.lock is None
        assert 6 in state.untrusted and state.proposal is not None and state.proposal.seq == 5
        would_be = LockReceipt(state.proposal, state.events[-1]).fingerprint  # had it counted
    finally:
        m.journal.close()
    for fp in (would_be, "0000-0000-0000-0000"):
        r = panel.run(MEMBER, "verify", "--fingerprint", fp, cwd=root)
        assert (
            r.returncode == 2 and f"no lock in this session, but the list was locked with fingerprint {fp}" in r.stdout
        )


def test_a_confirmation_forged_and_signed_with_the_secretarys_own_key_does_not_count(panel, proposed):
    root = clone(panel, proposed)
    seq = forge(panel, root, str(panel.sec_pub_file))  # signed through the secretary's agent
    forged = rows(root)[-1]
    assert forged[7] and forged[7].startswith("-----BEGIN SSH SIGNATURE-----")

    # A genuine signature, by the secretary, over exactly the event's bytes...
    with Journal(db(root), writable=False) as journal:
        event = journal.events()[-1]
    folder = Path(tempfile.mkdtemp(prefix="pt-sig-", dir="/tmp"))
    try:
        (folder / "sig").write_text(forged[7])
        good = subprocess.run(
            [
                "ssh-keygen",
                "-Y",
                "verify",
                "-f",
                str(root / "signers"),
                "-I",
                SEC,
                "-n",
                "panel-tui",
                "-s",
                str(folder / "sig"),
            ],
            input=event.signed_bytes,
            capture_output=True,
            timeout=60,
        )
        assert good.returncode == 0, good.stderr
    finally:
        shutil.rmtree(folder)

    # ... but not by a key listed for the author it claims.
    sec_fp = PublicKey.parse(panel.pub[SEC]).fingerprint
    r = panel.run(MEMBER, "verify", cwd=root)
    assert r.returncode == 2, r.stdout
    assert (
        f"FAIL  event {seq} (lock_confirmed by {CHAIR}): signature refused: it was signed by key {sec_fp}, "
        f"which signers does not list for {CHAIR} (it is listed for {SEC})"
    ) in r.stdout
    assert f"does not count: it was signed by key {sec_fp}" in log_line(panel, root, seq)
    r = panel.run(SEC, "export", "--format", "json", "--out", str(root / "sessions" / "out"), cwd=root)
    assert r.returncode == 3 and "not locked" in r.stderr
    m = meeting(root)
    try:
        state = m.state()
        assert state.lock is None
        would_be = LockReceipt(state.proposal, state.events[-1]).fingerprint
    finally:
        m.journal.close()
    r = panel.run(MEMBER, "verify", "--fingerprint", would_be, cwd=root)
    assert r.returncode == 2 and "no lock in this session" in r.stdout


# -- 2. rewritten history -----------------------------------------------------------------------

# A member with write access drops the triggers, edits or deletes an event and re-chains
# everything after it (seq, prev, hash; the confirmation's pointer to its proposal too),
# keeping the old signatures: the chain is perfect again.
REWRITE = r"""
import hashlib, json, sqlite3, sys
path, action, target = sys.argv[1], sys.argv[2], int(sys.argv[3])
canon = lambda v: json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
conn = sqlite3.connect(path, isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("DROP TRIGGER IF EXISTS events_no_update")
conn.execute("DROP TRIGGER IF EXISTS events_no_delete")
old = conn.execute("SELECT seq, kind, author, at, payload, sig FROM events ORDER BY seq").fetchall()
if action == "edit":
    old = [(s, k, a, t, canon({**json.loads(p), "text": sys.argv[4]}) if s == target else p, g) for s, k, a, t, p, g in old]
else:
    old = [row for row in old if row[0] != target]
renumber = {row[0]: new for new, row in enumerate(old, 1)}
conn.execute("DELETE FROM events")
prev = "0" * 64
for seq, (was, kind, author, at, payload, sig) in enumerate(old, 1):
    if kind == "lock_confirmed":
        p = json.loads(payload)
        payload = canon({**p, "proposal": renumber.get(p["proposal"], p["proposal"])})
    digest = hashlib.sha256(canon([prev, seq, kind, author, at, payload]).encode()).hexdigest()
    conn.execute("INSERT INTO events (seq, kind, author, at, payload, prev, hash, sig) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (seq, kind, author, at, payload, prev, digest, sig))
    prev = digest
conn.execute("COMMIT")
"""


def test_an_edited_and_rechained_note_is_named_by_its_signature(panel, locked):
    root = clone(panel, locked.root)
    r = panel.script(MEMBER, REWRITE, str(db(root)), "edit", "2", "the chair agrees with S01 above S02", cwd=root)
    assert r.returncode == 0, r.stderr
    stored = rows(root)
    assert check_chain(stored) == [] and len(stored) == 6
    assert "the chair agrees" in stored[1][4]

    r = panel.run(MEMBER, "verify", cwd=root)
    assert r.returncode == 2, r.stdout
    assert (
        "FAIL  event 2 (note by ptchair): signature refused: the signature does not match the event's bytes: "
        "the event was changed after it was signed"
    ) in r.stdout
    assert "event 1 (" not in r.stdout  # before the edit, everything holds
    for seq in (3, 4, 5, 6):  # after it, each event's signed bytes include the new chain
        assert f"FAIL  event {seq} (" in r.stdout
    r = panel.run(MEMBER, "verify", "--fingerprint", locked.fingerprint, cwd=root)
    assert r.returncode == 2


def test_a_deleted_and_rechained_note_is_named_by_its_signature(panel, locked):
    root = clone(panel, locked.root)
    r = panel.script(MEMBER, REWRITE, str(db(root)), "delete", "2", cwd=root)  # the chair's objection
    assert r.returncode == 0, r.stderr
    stored = rows(root)
    assert check_chain(stored) == [] and [row[2] for row in stored] == [SEC, SEC, SEC, SEC, CHAIR]

    r = panel.run(MEMBER, "verify", cwd=root)
    assert r.returncode == 2, r.stdout
    assert "FAIL  event 2 (tie_order by ptsec): signature refused: the signature does not match" in r.stdout
    for seq in (3, 4, 5):
        assert f"FAIL  event {seq} (" in r.stdout
    assert "event 1 (" not in r.stdout
    r = panel.run(MEMBER, "verify", "--fingerprint", locked.fingerprint, cwd=root)
    assert r.returncode == 2 and "no lock in this session" in r.stdout


# -- 3. the Python API with another author's name -------------------------------------------------

API = r"""
import sys
from pathlib import Path
from panel_tui.config import load_config
from panel_tui.errors import Refused
from panel_tui.meeting import Meeting
meeting = Meeting(load_config(Path("config.toml")), Path("sessions/2022.sqlite"), who=sys.argv[1])
try:
    if sys.argv[2] == "confirm":
        meeting.confirm_lock()
    else:
        meeting.note(sys.argv[3])
except Refused as exc:
    print(exc, file=sys.stderr)
    sys.exit(exc.exit_status)
print("written")
"""


def test_the_api_with_another_authors_name_writes_nothing(panel):
    root = propose(panel)  # where it was proposed: the proposal stands and only the key can refuse
    before = rows(root)
    for args in (("confirm",), ("note", "the chair agrees with everything")):
        r = panel.script(SEC, API, CHAIR, *args, cwd=root)  # the secretary, with its agent
        assert r.returncode == 3, (args, r.stdout, r.stderr)
        assert r.stderr.startswith(f"no usable SSH key listed for {CHAIR} in signers to sign with"), r.stderr
        assert "written" not in r.stdout
        assert rows(root) == before
    r = panel.run(MEMBER, "verify", cwd=root)
    assert r.returncode == 0 and "the session is not locked" in r.stdout


# -- 4. a journal that disappears -----------------------------------------------------------------


def test_a_journal_cannot_be_moved_away_by_a_member_and_its_absence_fails_verify(panel, locked):
    root = clone(panel, locked.root)
    journal, aside = db(root), root / "sessions" / ".x"
    before = journal.read_bytes()
    r = accounts.run_as(MEMBER, ["mv", str(journal), str(aside)], cwd=root)
    assert r.returncode != 0 and b"Operation not permitted" in r.stderr, r
    r = accounts.run_as(MEMBER, ["rm", "-f", str(journal)], cwd=root)
    assert r.returncode != 0 and b"Operation not permitted" in r.stderr, r
    assert journal.read_bytes() == before and not aside.exists()
    assert panel.run(MEMBER, "verify", "--fingerprint", locked.fingerprint, cwd=root).returncode == 0

    # Its owner (the secretary) or root can move it away: verify says so.
    r = accounts.run_as(SEC, ["mv", str(journal), str(aside)], cwd=root)
    assert r.returncode == 0, r
    r = panel.run(MEMBER, "verify", cwd=root)
    assert r.returncode == 2
    assert f"FAIL  no session journal at {journal}: nothing recorded, or the file was moved or deleted" in r.stdout
    r = panel.run(MEMBER, "verify", "--fingerprint", locked.fingerprint, cwd=root)
    assert r.returncode == 2 and "no session journal" in r.stdout
    r = panel.run(MEMBER, "export", "--format", "csv", "--out", str(root / "sessions" / "out"), cwd=root)
    assert r.returncode == 3 and "not locked" in r.stderr

    # Emptied in place (a member may write the file): the announced fingerprint catches it.
    os.rename(aside, journal)
    r = accounts.run_as(MEMBER, ["truncate", "-s", "0", str(journal)], cwd=root)
    assert r.returncode == 0, r
    r = panel.run(MEMBER, "verify", "--fingerprint", locked.fingerprint, cwd=root)
    assert r.returncode == 2
    assert f"the journal is empty, but the list was announced locked with fingerprint {locked.fingerprint}" in r.stdout


# -- 5. planted symbolic links ---------------------------------------------------------------------


def private_file(user: str) -> tuple[Path, bytes]:
    """A file private to ``user`` (0600, in its 0700 home)."""
    path = Path(pwd.getpwnam(user).pw_dir) / PRIVATE
    content = f"{user}'s private notes: not for the panel\n".encode()
    r = accounts.run_as(user, ["sh", "-c", f"umask 077 && cat > '{path}'"], input=content)
    assert r.returncode == 0, r
    return path, content


def assert_untouched(path: Path, content: bytes, owner: str) -> None:
    st = path.lstat()
    assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    assert pwd.getpwuid(st.st_uid).pw_name == owner
    assert path.read_bytes() == content


def test_a_session_planted_as_a_link_before_it_exists_is_refused(panel):
    root = new_contest(panel)
    secret, content = private_file(SEC)
    link = db(root)
    r = accounts.run_as(MEMBER, ["ln", "-s", str(secret), str(link)], cwd=root)
    assert r.returncode == 0, r
    r = panel.run(SEC, "note", "the secretary opens the meeting", cwd=root)
    assert r.returncode == 2
    assert (
        f"{link}: the session file is a symbolic link (to {secret}), made by {MEMBER}; refusing to open it: "
        f"{MEMBER} or an administrator must remove the link" in r.stderr
    )
    r = panel.run(SEC, "verify", cwd=root)
    assert r.returncode == 2 and "is a symbolic link" in r.stderr
    assert_untouched(secret, content, SEC)
    assert link.is_symlink() and sorted(p.name for p in link.parent.iterdir()) == [link.name]


@pytest.mark.parametrize("suffix", ["-wal", "-shm"])
def test_a_sidecar_planted_as_a_link_next_to_a_session_is_refused(panel, proposed, suffix):
    root = clone(panel, proposed)
    before = rows(root)
    secret, content = private_file(SEC)
    link = Path(f"{db(root)}{suffix}")
    assert not link.exists()
    r = accounts.run_as(MEMBER, ["ln", "-s", str(secret), str(link)], cwd=root)
    assert r.returncode == 0, r
    r = panel.run(SEC, "note", "a note after the proposal", cwd=root)
    assert r.returncode == 2
    assert f"{link}: the session file is a symbolic link (to {secret}), made by {MEMBER}; refusing" in r.stderr
    r = panel.run(CHAIR, "confirm-lock", cwd=root)
    assert r.returncode == 2 and f"{link}: the session file is a symbolic link" in r.stderr
    assert_untouched(secret, content, SEC)
    os.unlink(link)  # (root, the folder's owner, may)
    assert rows(root) == before


# -- 6. files changed after the lock ---------------------------------------------------------------


def test_a_conflict_declared_after_the_lock_fails_verify(panel, locked):
    root = clone(panel, locked.root)
    conflicts = root / "data" / "conflicts.csv"
    conflicts.write_text(conflicts.read_text(encoding="utf-8") + "E01,C01\n", encoding="utf-8")
    r = panel.run(MEMBER, "verify", cwd=root)
    assert r.returncode == 2, r.stdout
    assert "FAIL  conflicts file changed since the lock: conflicts.csv changed at" in r.stdout
    assert "ok    signatures: all 6 events" in r.stdout  # the journal itself still holds


def test_a_signers_file_changed_after_the_lock_fails_verify(panel, locked):
    root = clone(panel, locked.root)
    signers = root / "signers"
    signers.write_text(
        signers.read_text(encoding="utf-8") + f'{MEMBER} namespaces="panel-tui" {panel.pub[MEMBER]}\n', encoding="utf-8"
    )
    r = panel.run(MEMBER, "verify", cwd=root)
    assert r.returncode == 2, r.stdout
    # Who may sign is fixed when the meeting starts: with another signers file no lock counts.
    assert (
        "(lock_confirmed by ptchair) does not count: the signers file is not the one the meeting started with"
        in r.stdout
    )
    r = panel.run(MEMBER, "verify", "--fingerprint", locked.fingerprint, cwd=root)
    assert r.returncode == 2 and "not the one the meeting started with" in r.stdout
    # ... and the session stays closed to writes.
    r = panel.run(SEC, "note", "--candidate", "C01", "after the lock", cwd=root)
    assert r.returncode == 3 and "lock confirmation" in r.stderr


# -- 7. a stale proposal ---------------------------------------------------------------------------


def test_the_chair_cannot_confirm_a_proposal_whose_scores_changed(panel, proposed):
    root = clone(panel, proposed)
    before = rows(root)
    lower_scores(root / "data" / "scores.csv")
    r = panel.run(CHAIR, "confirm-lock", cwd=root)
    assert r.returncode == 3
    assert f"the proposal by {SEC} is stale: scores.csv changed at" in r.stderr
    assert "the secretary must propose it again" in r.stderr
    assert rows(root) == before
    m = meeting(root)
    try:
        state = m.state()
        problems = m.proposal_problems(state, m.standings(state))
    finally:
        m.journal.close()
    assert len(problems) == 1 and problems[0].startswith("scores.csv changed at"), problems


# -- 8. drift after the lock -----------------------------------------------------------------------


def test_scores_changed_after_the_lock_fail_verify_and_warn_in_rank(panel, locked):
    root = clone(panel, locked.root)
    lower_scores(root / "data" / "scores.csv")
    r = panel.run(MEMBER, "verify", cwd=root)
    assert r.returncode == 2
    assert "FAIL  scores file changed since the lock: scores.csv changed at" in r.stdout
    assert "differs from the locked one" in r.stdout and "C05 total" in r.stdout
    r = panel.ok(MEMBER, "rank", cwd=root)
    assert "panel-tui: warning: the files no longer give the locked list; run `panel-tui verify`" in r.stderr


# -- 9. the happy path -----------------------------------------------------------------------------


def test_the_signed_lock_verifies_and_each_signature_checks_with_ssh_keygen_alone(panel, locked):
    root = locked.root
    sec_ssh = Path(pwd.getpwnam(SEC).pw_dir) / ".ssh"
    assert sorted(p.name for p in sec_ssh.iterdir() if not p.name.endswith((".pub", ".sock"))) == []  # agent only
    assert f"proposed by {SEC}, confirmed by {CHAIR}" in locked.confirmed
    assert len(locked.fingerprint) == 19

    r = panel.ok(MEMBER, "verify", cwd=root)
    assert "ok    signatures: all 6 events signed by keys signers lists for their authors" in r.stdout
    assert f"locked: proposed by {SEC} (event 5), confirmed by {CHAIR} (event 6)" in r.stdout
    assert "verified: everything holds" in r.stdout
    r = panel.ok(MEMBER, "verify", "--fingerprint", locked.fingerprint, cwd=root)
    assert f"the lock's fingerprint is {locked.fingerprint}, as expected" in r.stdout
    assert f"fingerprint {locked.fingerprint}" in log_line(panel, root, 6)

    doc = json.loads(panel.ok(MEMBER, "log", "--format", "json", cwd=root).stdout)
    assert [(e["seq"], e["author"]) for e in doc] == [(1, SEC), (2, CHAIR), (3, SEC), (4, SEC), (5, SEC), (6, CHAIR)]
    folder = Path(tempfile.mkdtemp(prefix="pt-by-hand-", dir="/tmp"))
    os.chmod(folder, 0o755)
    try:
        for event in (doc[4], doc[5]):  # the proposal (agent) and the confirmation (key file)
            (folder / "sig").write_text(event["signature"])
            os.chmod(folder / "sig", 0o644)
            data = base64.b64decode(event["signed"])

            def by_hand(login: str, data: bytes = data) -> subprocess.CompletedProcess:
                return accounts.run_as(
                    MEMBER,
                    [
                        "ssh-keygen",
                        "-Y",
                        "verify",
                        "-f",
                        str(root / "signers"),
                        "-I",
                        login,
                        "-n",
                        "panel-tui",
                        "-s",
                        str(folder / "sig"),
                    ],
                    input=data,
                )

            good = by_hand(event["author"])
            assert good.returncode == 0 and b"Good" in good.stdout, good
            other = SEC if event["author"] == CHAIR else CHAIR
            assert by_hand(other).returncode != 0
            assert (
                accounts.run_as(
                    MEMBER,
                    [
                        "ssh-keygen",
                        "-Y",
                        "verify",
                        "-f",
                        str(root / "signers"),
                        "-I",
                        event["author"],
                        "-n",
                        "panel-tui",
                        "-s",
                        str(folder / "sig"),
                    ],
                    input=data + b" ",
                ).returncode
                != 0
            )
    finally:
        shutil.rmtree(folder)


# -- 10. an account with no key listed ------------------------------------------------------------


def test_a_member_with_no_key_listed_is_told_what_to_do_and_writes_nothing(panel, proposed):
    root = clone(panel, proposed)
    before = rows(root)
    r = panel.run(MEMBER, "note", "--candidate", "C04", "a member's note", cwd=root)
    assert r.returncode == 3
    line = " ".join(panel.pub[MEMBER].split()[:2])
    assert (
        f"no usable SSH key listed for {MEMBER} in signers to sign with: add the line "
        f'`{MEMBER} namespaces="panel-tui" {line}` to {root / "signers"}'
    ) in r.stderr
    assert "signers lists no key at all for ptmember" in r.stderr
    assert rows(root) == before


def test_session_init_refuses_a_session_file_a_member_made_first(panel):
    """A member who creates the session file first would own it (and could move or empty it):
    the secretary's `session init` says so instead of adopting it."""
    root = new_contest(panel)
    r = accounts.run_as(MEMBER, ["touch", str(db(root))], cwd=root)
    assert r.returncode == 0, r
    r = panel.run(SEC, "session", "init", cwd=root)
    assert r.returncode == 3 and f"belongs to {MEMBER}, not to the secretary {SEC}" in r.stderr, r.stderr
    os.unlink(db(root))  # the administrator removes it
    r = panel.run(SEC, "session", "init", cwd=root)
    assert r.returncode == 0 and "created" in r.stdout, r.stderr


def test_a_chair_key_added_to_the_signers_file_during_the_meeting_locks_nothing(panel, proposed):
    """The secretary (who keeps the signers file) lists a key of their own for the chair after
    the meeting started and confirms with it: the signature verifies against the file as it is
    now, but the file is not the one the meeting started with."""
    root = clone(panel, proposed)
    sec_ssh = Path(pwd.getpwnam(SEC).pw_dir) / ".ssh"
    fake = accounts.make_key(SEC, sec_ssh / "chair_lookalike")
    with (root / "signers").open("a", encoding="utf-8") as f:
        f.write(f'{CHAIR} namespaces="panel-tui" {fake}\n')
    seq = forge(panel, root, str(sec_ssh / "chair_lookalike"))
    state = meeting(root).state()
    assert state.lock is None and "not the one the meeting started with" in state.untrusted[seq]
    r = panel.run(MEMBER, "verify", cwd=root)
    assert r.returncode == 2 and "not the one the meeting started with" in r.stdout
    assert panel.run(SEC, "export", "--format", "md", "--out", "exports", cwd=root).returncode == 3
    (sec_ssh / "chair_lookalike").unlink()
