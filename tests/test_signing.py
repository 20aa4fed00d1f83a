"""Signed events (panel_tui.signing): the allowed-signers file, the signing key of the running
account (agent first, then ~/.ssh/id_ed25519), sign and verify, with real keys and agents made
by OpenSSH here; then with real OS accounts (marker ``accounts``, root only)."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import accounts
import pytest

from panel_tui import signing
from panel_tui.errors import InputError, Refused
from panel_tui.session import GENESIS, canonical

pytestmark = pytest.mark.skipif(
    not (shutil.which("ssh-keygen") and shutil.which("ssh-agent") and shutil.which("ssh-add")),
    reason="OpenSSH's ssh-keygen, ssh-agent and ssh-add are needed (apt install openssh-client)",
)


def event_bytes(
    seq: int = 1, author: str = "kim", text: str = "스마트시티 note: keep Suwon", prev: str = GENESIS
) -> bytes:
    """What the journal signs: the event's canonical bytes including the previous hash."""
    payload = canonical({"text": text, "candidate": "C-07"})
    return canonical([prev, seq, "note", author, "2026-05-01T09:00:00.000000+00:00", payload]).encode("utf-8")


def keygen(path: Path, *, passphrase: str = "", comment: str = "") -> signing.PublicKey:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", comment, "-f", str(path)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return signing.PublicKey.parse(Path(f"{path}.pub").read_text())


def home_with(folder: Path, key: Path | None = None) -> Path:
    """A home whose ~/.ssh/id_ed25519 is a copy of ``key`` (or no key at all)."""
    ssh = folder / ".ssh"
    ssh.mkdir(parents=True, mode=0o700)
    if key is not None:
        shutil.copy(key, ssh / "id_ed25519")
        os.chmod(ssh / "id_ed25519", 0o600)
        shutil.copy(f"{key}.pub", ssh / "id_ed25519.pub")
    return folder


class Agent:
    """A real ssh-agent on a short socket path, stopped by its own pid."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="pt-agent-", dir="/tmp"))
        self.socket = self.dir / "a.sock"
        self.process = subprocess.Popen(
            ["ssh-agent", "-D", "-a", str(self.socket)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while not self.socket.exists():
            assert self.process.poll() is None and time.monotonic() < deadline, "ssh-agent did not start"
            time.sleep(0.02)
        self.env = {"SSH_AUTH_SOCK": str(self.socket), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}

    def add(self, key: Path) -> None:
        subprocess.run(
            ["ssh-add", str(key)], check=True, capture_output=True, env=self.env, timeout=60, stdin=subprocess.DEVNULL
        )

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def agent():
    a = Agent()
    yield a
    a.stop()


@pytest.fixture
def keys(tmp_path):
    """kim and lee listed (kim only for panel-tui), an unlisted key, a key with a passphrase."""
    folder = tmp_path / "keys"
    folder.mkdir()
    made = {
        "kim": keygen(folder / "kim", comment="kim@laptop"),
        "lee": keygen(folder / "lee", comment="lee@laptop"),
        "stranger": keygen(folder / "stranger"),
        "locked": keygen(folder / "locked", passphrase="correct horse"),
    }
    signers = tmp_path / "signers.txt"
    signers.write_text(
        "# the panel's signing keys\n\n"
        f'kim namespaces="panel-tui" {made["kim"].line} kim@laptop\n'
        f"lee {made['lee'].line}\n",
        encoding="utf-8",
    )

    class Keys:
        pass

    k = Keys()
    k.dir, k.pub, k.signers = folder, made, signers
    k.path = {name: folder / name for name in made}
    return k


def by_hand(data: bytes, signature: str, login: str, signers: Path, tmp: Path, namespace: str = "panel-tui"):
    """``ssh-keygen -Y verify`` run directly, not through the module."""
    sig = tmp / "by-hand.sig"
    sig.write_text(signature)
    return subprocess.run(
        ["ssh-keygen", "-Y", "verify", "-f", str(signers), "-I", login, "-n", namespace, "-s", str(sig)],
        input=data,
        capture_output=True,
        timeout=60,
    )


# -- the allowed-signers file -------------------------------------------------------------------


def test_allowed_signers_as_ssh_keygen_reads_it(keys, tmp_path):
    kim, lee, stranger = keys.pub["kim"], keys.pub["lee"], keys.pub["stranger"]
    text = (
        "  # indented comment\n"
        "\n"
        f'kim,lee NAMESPACES="panel-tui,git" {kim.line} comment with spaces\n'
        f'"park" {lee.line}\n'
        f'team-* namespaces="panel-*",valid-after="20200101" {stranger.line}\n'
        f"*,!choi cert-authority {stranger.line}\n"
        f'old valid-before="20200101Z" {lee.line}\n'
        f'future valid-after="209901010000Z" {lee.line}\n'
        f'gitonly namespaces="git" {kim.line}\n'
        f"\t choi {kim.line}\r\n"
    )
    s = signing.AllowedSigners.parse(text, tmp_path / "signers.txt")
    assert [e.line for e in s.entries] == [3, 4, 5, 6, 7, 8, 9, 10]
    assert s.keys_for("kim") == [kim] and s.keys_for("lee") == [kim]
    assert s.keys_for("park") == [lee]  # no namespaces option: any namespace
    assert s.keys_for("team-a") == [stranger] and s.keys_for("team-a", namespace="git") == []
    assert s.keys_for("choi") == [kim]  # the cert-authority line is not a signing key
    assert s.keys_for("old") == [] and s.keys_for("old", at=datetime(2019, 6, 1, tzinfo=UTC)) == [lee]
    assert s.keys_for("future") == []
    assert s.keys_for("gitonly") == [] and s.keys_for("gitonly", namespace="git") == [kim]
    assert s.keys_for("nobody") == []
    ca = s.entries[3]
    assert ca.cert_authority and ca.principals == "*,!choi"
    assert s.entries[0].key.comment == "comment with spaces"
    assert sorted(s.principals_of(kim)) == sorted(["kim,lee", "gitonly", "choi"])


@pytest.mark.parametrize(
    ("name", "patterns", "expected"),
    [
        ("kim", "kim", True),
        ("kim", "lee,kim", True),
        ("kim", "ki?", True),
        ("kim", "k*", True),
        ("kim", "*", True),
        ("kim", "*,!kim", False),
        ("kim", "!kim,*", False),
        ("kim", "KIM", False),
        ("kim", "ki", False),
        ("kim", "!lee", False),
        ("a.b", "a?b", True),
        ("axb", "a.b", False),
        ("k[i]m", "k[i]m", True),
    ],
)
def test_pattern_lists_as_openssh(name, patterns, expected):
    assert signing.match_pattern_list(name, patterns) is expected


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("kim", "expected: login"),
        ("kim ssh-ed25519", "base64 data is missing"),
        ("kim ssh-ed25519 notbase64!!", "not valid base64"),
        ("kim ssh-rsa B64_OF_KIM", "is a ssh-ed25519 key, not ssh-rsa"),
        ("kim sshed25519 KEY_OF_KIM", "unknown option"),
        ('kim namespaces="panel-tui KEY_OF_KIM', "unterminated double quote"),
        ("kim namespaces=panel-tui KEY_OF_KIM", "needs a quoted value"),
        ('kim namespaces="a",namespaces="b" KEY_OF_KIM', "given twice"),
        ("kim verify-required KEY_OF_KIM", "unknown option 'verify-required'"),
        ('kim valid-after="2020" KEY_OF_KIM', "is not YYYYMMDD"),
        ('kim namespaces="panel-tui", KEY_OF_KIM', "end with a comma"),
        ("kim cert-authority", "the key is missing"),
        ("kim cert-authority ecdsa-sha2-nistp999 AAAA", "unknown key type"),
    ],
)
def test_a_bad_line_names_the_file_and_the_line(keys, line, message):
    path = keys.signers
    path.write_text(
        f"# ok\nlee {keys.pub['lee'].line}\n{line.replace('KEY_OF_KIM', keys.pub['kim'].line).replace('B64_OF_KIM', keys.pub['kim'].blob)}\n"
    )
    with pytest.raises(InputError) as info:
        signing.AllowedSigners.load(path)
    text = str(info.value)
    assert text.startswith(f"{path}, line 3: not an allowed-signers line"), text
    assert message in text, text


def test_a_missing_or_odd_signers_file_is_bad_input(tmp_path):
    with pytest.raises(InputError, match="signers.txt: signers file not found"):
        signing.AllowedSigners.load(tmp_path / "signers.txt")
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(InputError, match="fifo: is a named pipe"):
        signing.AllowedSigners.load(tmp_path / "fifo")  # never blocks
    (tmp_path / "latin1.txt").write_bytes(b"kim \xe9\n")
    with pytest.raises(InputError, match="latin1.txt: the signers file is not UTF-8 text"):
        signing.AllowedSigners.load(tmp_path / "latin1.txt")


def test_fingerprint_is_ssh_keygens(keys):
    out = subprocess.run(
        ["ssh-keygen", "-l", "-f", f"{keys.path['kim']}.pub"], capture_output=True, text=True, check=True
    ).stdout
    assert out.split()[1] == keys.pub["kim"].fingerprint == signing.fingerprint_of(keys.pub["kim"].line)


def test_key_file_header_read_without_passphrase(keys):
    plain = signing.read_key_file(keys.path["kim"])
    assert plain.public == keys.pub["kim"] and not plain.encrypted and plain.problem is None
    locked = signing.read_key_file(keys.path["locked"])
    assert locked.public == keys.pub["locked"] and locked.encrypted
    os.unlink(f"{keys.path['locked']}.pub")  # the public key is in the private file's header too
    assert signing.read_key_file(keys.path["locked"]).public == keys.pub["locked"]


# -- signing -------------------------------------------------------------------------------------


def test_sign_with_the_key_file_and_verify(keys, tmp_path):
    home = home_with(tmp_path / "home", keys.path["kim"])
    key = signing.find_signing_key("kim", keys.signers, home=home, environ={})
    assert key.source == "file" and key.path == home / ".ssh" / "id_ed25519" and key.public == keys.pub["kim"]
    data = event_bytes()
    sig = signing.sign(data, key, environ={})
    assert sig.startswith("-----BEGIN SSH SIGNATURE-----")
    assert signing.read_signature(sig).namespace == "panel-tui"
    ok, why = signing.verify(data, sig, "kim", keys.signers)
    assert ok, why
    assert 'Good "panel-tui" signature for kim' in why and keys.pub["kim"].fingerprint in why
    r = by_hand(data, sig, "kim", keys.signers, tmp_path)
    assert r.returncode == 0, r.stderr


def test_sign_with_the_agent_and_verify(keys, agent, tmp_path):
    agent.add(keys.path["stranger"])  # an unlisted key first: the listed one is picked
    agent.add(keys.path["kim"])
    home = home_with(tmp_path / "home")  # no key file at all: only the agent can sign
    key = signing.find_signing_key("kim", keys.signers, home=home, environ=agent.env)
    assert key.source == "agent" and key.agent == str(agent.socket) and key.public == keys.pub["kim"]
    assert "in the SSH agent" in key.describe()
    data = event_bytes()
    sig = signing.sign(data, key)
    assert signing.verify(data, sig, "kim", keys.signers)[0]
    assert by_hand(data, sig, "kim", keys.signers, tmp_path).returncode == 0


def test_the_agent_comes_before_the_key_file(keys, agent, tmp_path):
    keys.signers.write_text(keys.signers.read_text() + f"kim {keys.pub['stranger'].line}\n")
    agent.add(keys.path["stranger"])
    home = home_with(tmp_path / "home", keys.path["kim"])
    key = signing.find_signing_key("kim", keys.signers, home=home, environ=agent.env)
    assert (key.source, key.public) == ("agent", keys.pub["stranger"])
    status = signing.signing_status("kim", keys.signers, home=home, environ=agent.env)
    assert status.startswith("kim can sign events: key SHA256:") and "in the SSH agent, listed in signers.txt" in status


def test_a_dead_agent_falls_back_to_the_key_file(keys, tmp_path):
    home = home_with(tmp_path / "home", keys.path["lee"])
    env = {"SSH_AUTH_SOCK": str(tmp_path / "gone.sock")}
    key = signing.find_signing_key("lee", keys.signers, home=home, environ=env)
    assert key.source == "file"
    assert signing.verify(event_bytes(author="lee"), signing.sign(event_bytes(author="lee"), key), "lee", keys.signers)[
        0
    ]


def test_a_passphrase_key_in_the_agent_signs(keys, agent, tmp_path):
    keys.signers.write_text(f"kim {keys.pub['locked'].line}\n")
    env = {**agent.env, "SSH_ASKPASS": str(tmp_path / "askpass"), "SSH_ASKPASS_REQUIRE": "force", "DISPLAY": ":0"}
    (tmp_path / "askpass").write_text("#!/bin/sh\necho 'correct horse'\n")
    os.chmod(tmp_path / "askpass", 0o755)
    subprocess.run(
        ["ssh-add", str(keys.path["locked"])],
        check=True,
        capture_output=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    home = home_with(tmp_path / "home", keys.path["locked"])
    key = signing.find_signing_key("kim", keys.signers, home=home, environ=agent.env)
    assert key.source == "agent"
    assert signing.verify(b"x", signing.sign(b"x", key), "kim", keys.signers)[0]


# -- refusals: exit 3, saying what to do -----------------------------------------------------------


def test_no_key_listed_is_refused_with_the_line_to_add(keys, tmp_path):
    home = home_with(tmp_path / "home", keys.path["stranger"])
    with pytest.raises(Refused) as info:
        signing.find_signing_key("kim", keys.signers, home=home, environ={})
    msg = str(info.value)
    assert info.value.exit_status == 3
    assert msg.startswith("no usable SSH key listed for kim in signers.txt to sign with: add the line ")
    assert f'`kim namespaces="panel-tui" {keys.pub["stranger"].line}` to {keys.signers}' in msg
    assert f"keys found but not listed for kim: {keys.pub['stranger'].fingerprint} ({home}/.ssh/id_ed25519)" in msg
    assert "no SSH agent (SSH_AUTH_SOCK is not set)" in msg and "ssh -A" in msg
    status = signing.signing_status("kim", keys.signers, home=home, environ={})
    assert status.startswith("kim cannot sign events: no usable SSH key listed for kim")


def test_nothing_at_all_is_refused(keys, tmp_path):
    home = home_with(tmp_path / "home")
    with pytest.raises(Refused) as info:
        signing.find_signing_key("park", keys.signers, home=home, environ={})
    msg = str(info.value)
    assert '`park namespaces="panel-tui" <your public key' in msg
    assert f"no {home}/.ssh/id_ed25519" in msg and "signers.txt lists no key at all for park" in msg


def test_an_agent_with_only_unlisted_keys_is_refused(keys, agent, tmp_path):
    agent.add(keys.path["stranger"])
    agent.add(keys.path["lee"])  # listed, but for lee
    home = home_with(tmp_path / "home")
    with pytest.raises(Refused) as info:
        signing.find_signing_key("kim", keys.signers, home=home, environ=agent.env)
    msg = str(info.value)
    assert f"{keys.pub['stranger'].fingerprint} (in the SSH agent)" in msg
    assert f"{keys.pub['lee'].fingerprint} (in the SSH agent, listed for lee)" in msg
    assert f'`kim namespaces="panel-tui" {keys.pub["stranger"].line}`' in msg  # never suggests lee's key


def test_an_agent_gone_with_its_connection_says_to_start_again(keys, tmp_path):
    """After a dropped ssh and `tmux attach` from a new connection, the console's agent socket
    is gone: the refusal says so (not "add your key to the signers file")."""
    env = {"SSH_AUTH_SOCK": str(tmp_path / "agent.4242")}
    with pytest.raises(Refused, match="the SSH agent this program started with is gone") as refused:
        signing.find_signing_key("kim", keys.signers, home=home_with(tmp_path / "home"), environ=env)
    assert "add the line" not in str(refused.value)


def test_an_empty_agent_and_no_file_is_refused(keys, agent, tmp_path):
    with pytest.raises(Refused, match="the SSH agent holds no keys"):
        signing.find_signing_key("kim", keys.signers, home=home_with(tmp_path / "home"), environ=agent.env)


def test_a_passphrase_key_file_without_agent_is_refused(keys, tmp_path):
    keys.signers.write_text(f"kim {keys.pub['locked'].line}\n")
    home = home_with(tmp_path / "home", keys.path["locked"])
    with pytest.raises(Refused) as info:
        signing.find_signing_key("kim", keys.signers, home=home, environ={})
    msg = str(info.value)
    assert "is protected by a passphrase and panel-tui never asks for one" in msg
    assert f"ssh-add {home}/.ssh/id_ed25519" in msg and "ssh -A" in msg


def test_sign_never_prompts_for_a_passphrase(keys):
    """Even handed a passphrase-protected file directly, ssh-keygen gets no terminal and no
    input: a refusal at once, not a prompt on the user's terminal."""
    key = signing.SigningKey("kim", keys.pub["locked"], "file", path=keys.path["locked"])
    started = time.monotonic()
    with pytest.raises(Refused, match="kim could not sign with key SHA256:.*; nothing was recorded"):
        signing.sign(b"data", key, environ={"DISPLAY": ":0", "SSH_ASKPASS": "/bin/false"})
    assert time.monotonic() - started < 10


def test_an_agent_key_gone_is_refused(keys, agent):
    key = signing.SigningKey("kim", keys.pub["kim"], "agent", agent=str(agent.socket))  # never added
    with pytest.raises(Refused, match="could not sign"):
        signing.sign(b"data", key)


def test_temporary_files_are_private_and_removed(keys, tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    modes = []
    real = tempfile.mkdtemp

    def spy(*a, **k):
        made = real(*a, **k)
        modes.append(os.stat(made).st_mode & 0o777)
        return made

    monkeypatch.setattr(tempfile, "mkdtemp", spy)
    key = signing.find_signing_key("kim", keys.signers, home=home_with(tmp_path / "home", keys.path["kim"]), environ={})
    sig = signing.sign(b"data", key)
    assert signing.verify(b"data", sig, "kim", keys.signers)[0]
    assert (
        signing.verify_many([signing.ToVerify(b"data", sig, "kim")] * 3, keys.signers)
        == [signing.verify(b"data", sig, "kim", keys.signers)] * 3
    )
    assert modes and set(modes) == {0o700}
    assert list(scratch.iterdir()) == []


# -- verify rejects, naming why -----------------------------------------------------------------


@pytest.fixture
def signed(keys, tmp_path):
    """kim's event signed with kim's key file, and a signer for any key."""

    def with_key(name: str, data: bytes, namespace: str = "panel-tui") -> str:
        out = subprocess.run(
            ["ssh-keygen", "-Y", "sign", "-n", namespace, "-f", str(keys.path[name])],
            input=data,
            capture_output=True,
            check=True,
            timeout=60,
        )
        return out.stdout.decode()

    data = event_bytes()
    return data, with_key("kim", data), with_key


def test_verify_accepts_and_rejects_tampered_bytes(keys, signed):
    data, sig, _ = signed
    assert signing.verify(data, sig, "kim", keys.signers)[0]
    tampered = data.replace(b"Suwon", b"Seoul")
    assert signing.verify(tampered, sig, "kim", keys.signers) == (
        False,
        "the signature does not match the event's bytes: the event was changed after it was signed",
    )
    other_prev = event_bytes(prev="f" * 64)  # same event, chained elsewhere
    assert not signing.verify(other_prev, sig, "kim", keys.signers)[0]


def test_verify_rejects_a_key_not_listed_for_the_author(keys, signed):
    data, _, with_key = signed
    ok, why = signing.verify(data, with_key("lee", data), "kim", keys.signers)
    assert not ok
    assert why == (
        f"it was signed by key {keys.pub['lee'].fingerprint}, which signers.txt does not list for kim "
        "(it is listed for lee)"
    )
    ok, why = signing.verify(data, with_key("stranger", data), "kim", keys.signers)
    assert why == f"it was signed by key {keys.pub['stranger'].fingerprint}, which signers.txt does not list for kim"
    # kim's own signature does not pass as lee's either
    assert not signing.verify(data, with_key("kim", data), "lee", keys.signers)[0]


def test_reasons_show_text_from_the_files_literally(keys, signed):
    data, _, with_key = signed
    keys.signers.write_text(f"lee\x1b[2J,\u202ekim {keys.pub['lee'].line}\n")
    ok, why = signing.verify(data, with_key("lee", data), "kim", keys.signers)
    assert not ok and why.endswith("(it is listed for lee␛[2J,\\u202ekim)"), why
    assert signing.verify(data, with_key("lee", data, "x\x07"), "kim", keys.signers)[1] == (
        "the signature is for the namespace 'x␇', not 'panel-tui'"
    )


def test_verify_rejects_another_namespace(keys, signed):
    data, _, with_key = signed
    assert signing.verify(data, with_key("kim", data, "git"), "kim", keys.signers) == (
        False,
        "the signature is for the namespace 'git', not 'panel-tui'",
    )


def test_verify_rejects_a_key_listed_only_for_another_namespace(keys, signed):
    data, sig, _ = signed
    keys.signers.write_text(f'kim namespaces="git" {keys.pub["kim"].line}\n')
    assert not signing.verify(data, sig, "kim", keys.signers)[0]


@pytest.mark.parametrize(
    ("signature", "why"),
    [
        (None, "the event carries no signature"),
        ("", "the event carries no signature"),
        ("garbage", "the signature is unreadable: not an armored SSH SIGNATURE"),
        ("-----BEGIN SSH SIGNATURE-----\n!!!!\n-----END SSH SIGNATURE-----\n", "not valid base64"),
        ("-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQ==\n-----END SSH SIGNATURE-----\n", "malformed"),
        ("-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n", "lacks the SSHSIG header"),
    ],
)
def test_verify_rejects_missing_and_garbage(keys, signature, why):
    ok, reason = signing.verify(b"data", signature, "kim", keys.signers)
    assert not ok and why in reason


def test_verify_rejects_a_corrupted_signature(keys, signed):
    data, sig, _ = signed
    lines = sig.splitlines()
    body = lines[1:-1]
    last = body[-2]
    body[-2] = last[:10] + ("A" if last[10] != "A" else "B") + last[11:]  # flip bits inside the signature value
    ok, why = signing.verify(data, "\n".join([lines[0], *body, lines[-1]]) + "\n", "kim", keys.signers)
    assert not ok, why


def test_verify_time_follows_the_keys_validity(keys, signed):
    data, sig, _ = signed
    keys.signers.write_text(f'kim valid-before="20200101Z" {keys.pub["kim"].line}\n')
    ok, why = signing.verify(data, sig, "kim", keys.signers)
    assert not ok and "does not list for kim" in why
    ok, why = signing.verify(data, sig, "kim", keys.signers, at=datetime(2019, 12, 31, 12, tzinfo=UTC))
    assert ok, why


def test_verify_many_keeps_order_and_reasons(keys, signed):
    data, sig, with_key = signed
    items = [
        signing.ToVerify(data, sig, "kim"),
        signing.ToVerify(data + b" ", sig, "kim"),
        signing.ToVerify(data, None, "kim"),
        signing.ToVerify(data, with_key("lee", data), "lee"),
        signing.ToVerify(data, with_key("lee", data), "kim"),
    ] * 6
    results = signing.verify_many(items, keys.signers, workers=4)
    assert [ok for ok, _ in results] == [True, False, False, True, False] * 6
    assert results == [signing.verify(i.data, i.signature, i.login, keys.signers) for i in items]
    assert signing.verify_many(items[:5], keys.signers, workers=1) == results[:5]
    assert signing.verify_many([], keys.signers) == []


# -- real OS accounts ----------------------------------------------------------------------------

SIGN_AS = """
import json, sys
from panel_tui import signing, session
from panel_tui.errors import Refused
signers, data = sys.argv[1], bytes.fromhex(sys.argv[2])
who = session.account()
try:
    key = signing.find_signing_key(who, signers)
    out = {"who": who, "source": key.source, "path": str(key.path), "signature": signing.sign(data, key),
           "status": signing.signing_status(who, signers)}
except Refused as exc:
    print(json.dumps({"who": who, "refused": str(exc), "status": signing.signing_status(who, signers)}))
    sys.exit(exc.exit_status)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def panel():
    return accounts.accounts_runner()


def sign_as(panel, user: str, signers: Path, data: bytes, agent: accounts.Agent | None = None):
    env = dict(panel.env)  # HOME=/tmp: the key must be found from the password database, not $HOME
    env.pop("SSH_AUTH_SOCK", None)
    if agent is not None:
        env["SSH_AUTH_SOCK"] = str(agent.socket)
    r = subprocess.run(
        [panel.python, "-c", SIGN_AS, str(signers), data.hex()],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/tmp",
        user=user,
        group=accounts.GROUP,
        extra_groups=[accounts.GROUP],
    )
    assert r.stdout, r.stderr
    return r.returncode, json.loads(r.stdout)


@pytest.fixture
def shared(tmp_path):
    """A folder every account can read, for the signers file; the accounts' ~/.ssh emptied after."""
    folder = Path(tempfile.mkdtemp(prefix="pt-signers-", dir="/tmp"))
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
    for user in (accounts.SECRETARY, accounts.CHAIR):
        accounts.fresh_ssh_dir(user)


@pytest.mark.system
def test_accounts_secretary_signs_via_agent_chair_via_key_file(panel, shared, tmp_path):
    sec, chair = accounts.SECRETARY, accounts.CHAIR
    # The secretary's key lives only in their agent (as with `ssh -A`): the file is removed.
    sec_ssh = accounts.fresh_ssh_dir(sec)
    sec_pub = accounts.make_key(sec, sec_ssh / "laptop_key")
    agent = accounts.start_agent(sec, sec_ssh)
    try:
        agent.add(sec_ssh / "laptop_key")
        (sec_ssh / "laptop_key").unlink()
        chair_ssh = accounts.fresh_ssh_dir(chair)
        chair_pub = accounts.make_key(chair, chair_ssh / "id_ed25519")
        signers = shared / "signers.txt"
        signers.write_text(f'{sec} namespaces="panel-tui" {sec_pub}\n{chair} namespaces="panel-tui" {chair_pub}\n')
        os.chmod(signers, 0o644)

        proposal = event_bytes(seq=5, author=sec)
        status, out = sign_as(panel, sec, signers, proposal, agent)
        assert status == 0, out
        assert (out["who"], out["source"]) == (sec, "agent")
        assert out["status"].startswith(f"{sec} can sign events: key SHA256:") and "in the SSH agent" in out["status"]

        confirmation = event_bytes(seq=6, author=chair, prev="a" * 64)
        status, out2 = sign_as(panel, chair, signers, confirmation)
        assert status == 0, out2
        home = Path(pwd.getpwnam(chair).pw_dir)
        assert (out2["source"], out2["path"]) == ("file", str(home / ".ssh" / "id_ed25519"))

        # Anyone checks them with nothing but ssh-keygen.
        assert by_hand(proposal, out["signature"], sec, signers, tmp_path).returncode == 0
        assert by_hand(confirmation, out2["signature"], chair, signers, tmp_path).returncode == 0
        assert by_hand(confirmation, out2["signature"], sec, signers, tmp_path).returncode != 0
        assert signing.verify(proposal, out["signature"], sec, signers)[0]
        assert not signing.verify(proposal, out2["signature"], chair, signers)[0]  # signed other bytes

        # The chair cannot use the secretary's agent (its socket is in the secretary's private home).
        status, out3 = sign_as(panel, chair, signers, confirmation, agent)
        assert status == 0 and out3["source"] == "file"
    finally:
        agent.stop()


@pytest.mark.system
def test_accounts_without_a_listed_key_are_refused(panel, shared):
    sec, chair = accounts.SECRETARY, accounts.CHAIR
    chair_ssh = accounts.fresh_ssh_dir(chair)
    chair_pub = accounts.make_key(chair, chair_ssh / "id_ed25519")
    sec_ssh = accounts.fresh_ssh_dir(sec)
    accounts.make_key(sec, sec_ssh / "id_ed25519", passphrase="secret words")
    locked_pub = Path(f"{sec_ssh}/id_ed25519.pub").read_text().strip()
    signers = shared / "signers.txt"
    signers.write_text(f"{sec} {locked_pub}\n")
    os.chmod(signers, 0o644)

    status, out = sign_as(panel, chair, signers, b"event")
    assert status == 3
    assert out["refused"].startswith(
        f"no usable SSH key listed for {chair} in signers.txt to sign with: add the line "
        f'`{chair} namespaces="panel-tui" {" ".join(chair_pub.split()[:2])}`'
    )
    assert out["status"].startswith(f"{chair} cannot sign events")

    status, out = sign_as(panel, sec, signers, b"event")
    assert status == 3 and "protected by a passphrase and panel-tui never asks for one" in out["refused"]
