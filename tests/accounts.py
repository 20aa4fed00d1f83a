"""Real OS accounts for the session tests: a panel group, a secretary and a chair.

CI runs as root and may create them; elsewhere the tests that need them skip, saying why.
Each account runs the real command as its own process (``subprocess`` with ``user=``), with
an interpreter that account can execute (the test's own, or the system's python3 with the
project's packages on PYTHONPATH when the test's lives under a private home).
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "panel_tui" / "demo"
GROUP = "ptpanel"
SECRETARY = "ptsec"
CHAIR = "ptchair"
MEMBER = "ptmember"


def can_make_accounts() -> str | None:
    """None when accounts can be used here, else the reason they cannot."""
    if os.geteuid() != 0:
        return "creating OS accounts needs root (CI runs as root)"
    if not shutil.which("useradd") or not shutil.which("groupadd"):
        return "useradd/groupadd are not installed"
    return None


def ensure_accounts() -> None:
    try:
        grp.getgrnam(GROUP)
    except KeyError:
        subprocess.run(["groupadd", GROUP], check=True)
    for name in (SECRETARY, CHAIR, MEMBER):
        try:
            pwd.getpwnam(name)
        except KeyError:
            subprocess.run(["useradd", "-M", "-N", "-g", GROUP, "-s", "/usr/sbin/nologin", name], check=True)


@dataclass
class Runner:
    """Runs ``python -m panel_tui`` as a given account, in a given directory."""

    python: str
    env: dict[str, str]

    def run(self, user: str | None, *args: str, cwd: Path, umask: int = 0o022) -> subprocess.CompletedProcess:
        extra = {}
        if user is not None:
            extra = {"user": user, "group": GROUP, "extra_groups": [GROUP]}
        return subprocess.run(
            [self.python, "-m", "panel_tui", *args],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            umask=umask,
            **extra,
        )


def runner_for(user: str) -> Runner | None:
    """An interpreter ``user`` can run with the project importable, or None."""
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    base["HOME"] = "/tmp"
    candidates = [Runner(sys.executable, dict(base))]
    system = "/usr/bin/python3"
    if Path(system).exists():
        paths = os.pathsep.join([str(ROOT), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
        candidates.append(Runner(system, {**base, "PYTHONPATH": paths}))
    for candidate in candidates:
        try:
            probe = subprocess.run(
                [candidate.python, "-c", "import polars, panel_tui.cli"],
                env=candidate.env,
                capture_output=True,
                user=user,
                group=GROUP,
                cwd="/tmp",
                timeout=120,
            )
        except OSError:  # e.g. the interpreter lives under a home the account cannot enter
            continue
        if probe.returncode == 0:
            return candidate
    return None


def accounts_runner() -> Runner:
    """The test accounts, made if need be, and an interpreter they can run the project with;
    the test is skipped, saying why, where that cannot be (not root, no useradd, no such Python)."""
    reason = can_make_accounts()
    if reason:
        pytest.skip(reason)
    ensure_accounts()
    runner = runner_for(SECRETARY)
    if runner is None:
        pytest.skip("no Python interpreter the test accounts can execute")
    return runner


def shared_contest(*, confirm: bool = True) -> Path:
    """A copy of the demo in a folder every account can read, with a group-shared setgid
    sessions folder, and roles naming the test accounts."""
    root = Path(tempfile.mkdtemp(prefix="panel-tui-", dir="/tmp"))
    os.chmod(root, 0o755)
    shutil.copytree(DEMO / "data", root / "data")
    for f in (root / "data").iterdir():
        os.chmod(f, 0o644)
    os.chmod(root / "data", 0o755)
    text = (DEMO / "config.toml").read_text(encoding="utf-8")
    text = text.replace('secretary = ["kim"]', f'secretary = ["{SECRETARY}"]')
    text = text.replace('chair = ["lee"]', f'chair = ["{CHAIR}"]')
    text = text.replace('members = ["park", "choi"]', f'members = ["{MEMBER}"]')
    if not confirm:
        text = text.replace("require_chair_confirmation = true", "require_chair_confirmation = false")
    (root / "config.toml").write_text(text, encoding="utf-8")
    os.chmod(root / "config.toml", 0o644)
    sessions = root / "sessions"
    sessions.mkdir()
    os.chown(sessions, 0, grp.getgrnam(GROUP).gr_gid)
    os.chmod(sessions, 0o2770)  # group-shared: setgid, group-writable, nobody else
    return root


# -- homes, SSH keys and agents for the signing tests ------------------------------------------
# The accounts are made without a home (-M). A test that needs ~/.ssh gets one under a
# root-owned folder in the temp dir, set in the password database with usermod -d (the
# module under test reads the home from there, never from $HOME).

HOMES = Path(tempfile.gettempdir()) / "panel-tui-homes"


def _as(user: str) -> dict:
    return {"user": user, "group": GROUP, "extra_groups": [GROUP]}


def ensure_home(user: str) -> Path:
    """A home for ``user`` (``HOMES/<user>``, owned by the account, 0700), recorded in
    /etc/passwd. usermod refuses while the account runs a process: retried for a while."""
    if not HOMES.exists():
        HOMES.mkdir(mode=0o755)
    st = HOMES.lstat()
    if not HOMES.is_dir() or HOMES.is_symlink() or st.st_uid != 0 or st.st_mode & 0o022:
        raise RuntimeError(f"{HOMES} must be a directory owned by root, writable only by root")
    home = HOMES / user
    if home.is_symlink():
        raise RuntimeError(f"{home} is a symbolic link")
    home.mkdir(exist_ok=True)
    entry = pwd.getpwnam(user)
    os.chown(home, entry.pw_uid, grp.getgrnam(GROUP).gr_gid)
    os.chmod(home, 0o700)
    deadline = time.monotonic() + 60
    while pwd.getpwnam(user).pw_dir != str(home):
        r = subprocess.run(["usermod", "-d", str(home), user], capture_output=True, text=True)
        if r.returncode == 0:
            break
        if r.returncode != 8 or time.monotonic() > deadline:  # 8: the account is running a process
            raise RuntimeError(f"usermod -d {home} {user}: {r.stderr.strip()}")
        time.sleep(0.5)
    return home


def fresh_ssh_dir(user: str) -> Path:
    """``~/.ssh`` of ``user``, emptied: owned by the account, 0700."""
    ssh = ensure_home(user) / ".ssh"
    if ssh.is_symlink():
        ssh.unlink()
    shutil.rmtree(ssh, ignore_errors=True)
    ssh.mkdir(mode=0o700)
    os.chown(ssh, pwd.getpwnam(user).pw_uid, grp.getgrnam(GROUP).gr_gid)
    return ssh


def make_key(user: str, path: Path, *, passphrase: str = "") -> str:
    """Generate an ed25519 key as ``user`` at ``path`` (and ``path.pub``); its public line."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", f"{user}@test", "-f", str(path)],
        check=True,
        capture_output=True,
        cwd=path.parent,
        timeout=60,
        **_as(user),
    )
    return Path(f"{path}.pub").read_text(encoding="ascii").strip()


@dataclass
class Agent:
    """A real ssh-agent run as an account, in the foreground (so its pid is ours to stop)."""

    user: str
    socket: Path
    process: subprocess.Popen

    def add(self, key: Path) -> None:
        subprocess.run(
            ["ssh-add", str(key)],
            check=True,
            capture_output=True,
            timeout=60,
            cwd=key.parent,
            env={**os.environ, "SSH_AUTH_SOCK": str(self.socket)},
            **_as(self.user),
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.socket.unlink(missing_ok=True)


def start_agent(user: str, folder: Path) -> Agent:
    """``ssh-agent -D -a folder/agent.sock`` as ``user``; ``folder`` must be the account's."""
    socket = folder / "agent.sock"
    socket.unlink(missing_ok=True)
    process = subprocess.Popen(
        ["ssh-agent", "-D", "-a", str(socket)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=folder,
        **_as(user),
    )
    deadline = time.monotonic() + 20
    while not socket.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"ssh-agent did not start for {user} at {socket}")
        time.sleep(0.05)
    return Agent(user, socket, process)


# -- running anything as an account (the attack tests) ---------------------------------------


def run_as(
    user: str,
    argv: list[str],
    *,
    cwd: Path | str = "/tmp",
    env: dict[str, str] | None = None,
    input: bytes | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess:
    """``argv`` as ``user`` (group ``GROUP``), output captured as bytes: what the account could do
    at its own shell prompt (``mv``, ``ln -s``, ``ssh-keygen``, a script of its own)."""
    return subprocess.run(
        argv,
        cwd=cwd,
        env=env if env is not None else {"PATH": "/usr/bin:/bin", "HOME": "/tmp"},
        input=input,
        capture_output=True,
        timeout=timeout,
        **_as(user),
    )


def with_env(runner: Runner, **extra: str | None) -> Runner:
    """The same interpreter with ``extra`` set in its environment (None: removed), e.g. the
    ``SSH_AUTH_SOCK`` of an account's agent."""
    env = dict(runner.env)
    for name, value in extra.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return Runner(runner.python, env)
