#!/usr/bin/env python3
"""Run README.md's "Running a panel meeting" on this machine, with real accounts and a real sshd.

Run as root: ``scripts/meeting_guide_check.py [--prefix pg] [--root DIR] [--keep]``.
Exit status 0 when every step did what the guide says, 1 when any failed (each step prints OK
or FAIL; a failure prints the command and its output), 2 when it could not start.

The guide's shell blocks (step 1, install; step 2, accounts, group, folders) are read from
README.md itself and run as written, after these substitutions only, so that the guide cannot
drift from what works:

  README                       here
  /srv/panel                   ROOT/srv/panel         (ROOT: --root, else a new /tmp/pgcheck.* folder)
  /opt/panel-tui               ROOT/opt/panel-tui
  /usr/local/bin               ROOT/usr/local/bin     (created here; sshd puts it first on PATH, SetEnv)
  /path/to/panel_tui           this repository's root
  /path/to/contest             the bundled demo contest, panel_tui/demo
  kim, lee, park, projector    PREFIXkim, PREFIXlee, PREFIXpark, PREFIXproj  (secretary, chair,
                               member, the shared screen)
  the group panel              PREFIXpanel
  ssh -A kim@host 'cmd'        ssh -tt -A -p PORT -o StrictHostKeyChecking=no
                               -o UserKnownHostsFile=/dev/null -i KEY PREFIXkim@127.0.0.1 'cmd'
  scp ... kim@host:...         scp -P PORT (the same options) ... PREFIXkim@127.0.0.1:...
  ssh -L 8000:127.0.0.1:8000   ssh -L FREE1:127.0.0.1:FREE2, and serve's command gets --port FREE2
  http://localhost:8000        http://localhost:FREE1 (two free ports: 8000 may be taken here)

The commands the guide gives inside its text (``locale charmap``, the tmux lines, the scp
lines, ...) are looked up in the guide before they run, with the same substitutions: a FAIL says
"the README no longer says ..." when the guide changed.

Before running the substituted blocks the script refuses any absolute path in them outside ROOT,
the repository and /dev/null, /usr/bin/python3 (a new line in the guide naming a system path
needs a substitution here first).

What the guide leaves to the administrator and the secretary, done here by root:
  - an sshd of its own on 127.0.0.1, a free port, its own config and host key (ListenAddress
    127.0.0.1, PasswordAuthentication no, AllowAgentForwarding yes, UsePAM no, AcceptEnv LANG
    LC_*, Subsystem sftp internal-sftp: scp needs it); openssh-server, openssh-client and tmux
    are installed with apt only when missing;
  - ``usermod -p '*'`` on each account (useradd leaves the password locked, which sshd refuses
    for key logins too when UsePAM is off), and each person's ed25519 key, generated as root in
    ROOT/keys, in their ~/.ssh/authorized_keys and in an ssh-agent of their own (``ssh -A``);
  - the secretary's edits: [roles] of config.toml set to the throwaway names, ``signers =
    "signers.txt"`` under [contest], signers.txt filled in (owner and mode kept as the guide set
    them).

The laptops are the script's own tmux server (ROOT/laptop/tmux.sock; a window 160x50, TERM
xterm-256color, LANG C.UTF-8), each window a terminal in which a person runs the guide's ssh, so
that what they see is read with ``tmux capture-pane -p`` and keys are typed with ``send-keys``.

Then, each over SSH as the person the guide names: ``session init`` (secretary), ``validate``
(everyone: the secretary, chair and member can read, write and sign; the projector is a viewer
that reads); ``locale charmap`` says UTF-8; the secretary's console started as step 3 says, in
tmux (``cd /srv/panel && tmux new -A -s panel 'panel-tui; read line'``) over ``ssh -tt -A``: its
screen shows the boards, "PREFIXkim: secretary" and the secretary's keys, on the laptop and in
the account's own tmux; the projector's ``panel-tui --display`` over ``ssh -tt`` (step 4): the
boards, "display (read-only)", none of the secretary's keys; a note by the member shows on the
running console (C01 ✎1) and a focus by the secretary on both screens, each timed; a new scores
file (step 5: scp from the laptop beside the old one, chmod 644, mv over it) says "scores.csv
reloaded" on both; the connection dropped (the laptop's terminal closed) leaves the tmux session,
``tmux attach -t panel`` brings the console back, ``q`` quits it and ``read line`` keeps the
window until Enter, the same line starts it again and its ``f`` records a focus (signed through
the new connection's agent) that the display shows; the display quits with ``q``; ``panel-tui
serve`` in tmux as the projector (step 4) through ``ssh -L``: the page answers on the laptop's
port, its files from the same address and no external font, and Ctrl+C ends serve, its tmux
session and the connection; the projector reads (``rank``, ``log``) but a
write is refused (exit 3) and it cannot open the session file for writing itself, a member's
own config naming them secretary writes nothing (exit 3, "not the ones this session started
with"), the lock refused while C24 is pending and S01/S02 tied, the secretary's ``decide tie``
and ``decide exclude``, ``lock`` (secretary), ``confirm-lock`` (chair), ``export --format md --out
exports`` (secretary), the guide's ``scp 'kim@host:/srv/panel/exports/*' .`` on the secretary's
laptop (the same bytes), ``verify --fingerprint FP`` (projector).

``--keep`` leaves the accounts, group, sshd, the laptops' tmux and ROOT for inspection (it prints
how to remove them); otherwise all of them go at the end, also after a failure (with every
process of the throwaway accounts: their tmux servers, a console a failed step left running).
The throwaway accounts carry the comment "meeting_guide_check throwaway": a later run removes
such leftovers, and refuses to touch an existing account without it.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import grp
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
DEMO = REPO / "panel_tui" / "demo"
SSHD = "/usr/sbin/sshd"
MARK = "meeting_guide_check throwaway"
LOCK = "/run/meeting_guide_check.lock"
TIMEOUT = 120


class Abort(Exception):
    """The run cannot go on (a set-up step failed)."""


class Check:
    def __init__(self, prefix: str, root: Path | None, keep: bool) -> None:
        self.prefix = prefix
        self.names = {
            "kim": f"{prefix}kim",
            "lee": f"{prefix}lee",
            "park": f"{prefix}park",
            "projector": f"{prefix}proj",
        }
        self.secretary, self.chair, self.member, self.projector = self.names.values()
        self.group = f"{prefix}panel"
        self.given_root = root
        self.root = Path("/nonexistent")
        self.made_root = False
        self.keep = keep
        self.failures: list[str] = []
        self.sshd: subprocess.Popen[bytes] | None = None
        self.agents: dict[str, tuple[int, str]] = {}  # user -> (pid, socket)
        self.port = 0
        self.made_run_sshd = False
        self.section = ""
        self.windows: set[str] = set()  # the laptops' terminals opened

    # -- output ------------------------------------------------------------------------------

    def ok(self, what: str) -> None:
        print(f"OK    {what}", flush=True)

    def fail(self, what: str, command: str = "", output: str = "") -> None:
        self.failures.append(what)
        print(f"FAIL  {what}", flush=True)
        if command:
            print(f"      command: {command}")
        if output:
            print("      output:\n" + "\n".join(f"        {line}" for line in output.rstrip().splitlines()[-60:]))
        sys.stdout.flush()

    # -- the guide's text --------------------------------------------------------------------

    def read_guide(self) -> None:
        text = README.read_text(encoding="utf-8")
        start = text.find("\n## Running a panel meeting")
        if start < 0:
            raise Abort('README.md has no section "## Running a panel meeting"')
        end = text.find("\n## ", start + 1)
        self.section = text[start : end if end > 0 else len(text)]
        self.readme = text

    def blocks(self) -> list[str]:
        """The section's shell blocks, dedented."""
        found = re.findall(r"^( *)```sh\n(.*?)^\1```", self.section, flags=re.S | re.M)
        return ["\n".join(line[len(indent) :] for line in body.splitlines()) + "\n" for indent, body in found]

    def says(self, literal: str, where: str = "section") -> bool:
        """The guide gives ``literal`` (whitespace, including line breaks, collapsed)."""
        text = self.section if where == "section" else self.readme
        flat = re.sub(r"\s+", " ", text)
        if re.sub(r"\s+", " ", literal) in flat:
            return True
        self.fail(f"the README no longer says `{literal}`" + (" in its meeting guide" if where == "section" else ""))
        return False

    def substitute(self, text: str) -> str:
        paths = {
            "/path/to/panel_tui": str(REPO),
            "/path/to/contest": str(DEMO),
            "/opt/panel-tui": f"{self.root}/opt/panel-tui",
            "/usr/local/bin": f"{self.root}/usr/local/bin",
            "/srv/panel": f"{self.root}/srv/panel",
        }
        held: dict[str, str] = {}
        for i, (old, new) in enumerate(paths.items()):
            token = f"\x00{i}\x00"
            held[token] = new
            text = text.replace(old, token)
        names = "|".join(self.names)
        text = re.sub(rf"(?<![\w/.$-])({names})(?![\w/.-])", lambda m: self.names[m.group(1)], text)
        text = re.sub(r"(?<![\w/.$-])panel(?![\w/.-])", self.group, text)
        for token, new in held.items():
            text = text.replace(token, new)
        return text

    def outside(self, script: str) -> list[str]:
        """Absolute paths the substituted script names outside the throwaway places."""
        allowed = (f"{self.root}/", f"{REPO}/", str(REPO))
        exact = {"/dev/null", "/usr/bin/python3"}
        bad = []
        for line in script.splitlines():
            code = re.sub(r"(^|\s)#.*", "", line)
            for path in re.findall(r"(?:(?<=^)|(?<=[\s=:'\"<>]))(/[^\s'\";&|)]*)", code):
                if path not in exact and not path.startswith(allowed) and path != str(self.root):
                    bad.append(path)
        return bad

    # -- running things ----------------------------------------------------------------------

    def sh(self, command: str, what: str, abort: bool = True) -> str:
        """Run ``command`` with bash as root; OK or FAIL (and stop, with ``abort``)."""
        run = subprocess.run(["bash", "-euo", "pipefail", "-c", command], capture_output=True, text=True, timeout=600)
        out = run.stdout + run.stderr
        if run.returncode == 0:
            self.ok(what)
            return out
        self.fail(f"{what} (exit {run.returncode})", command, out)
        if abort:
            raise Abort(what)
        return out

    def options(self, user: str, port: str = "-p") -> list[str]:
        """The options every connection here adds to the guide's ``ssh``/``scp`` (``port``: scp's -P)."""
        return [
            port, str(self.port),
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR", "-o", "SendEnv=LANG",
            "-i", str(self.root / "keys" / user),
        ]  # fmt: skip

    def env(self, user: str) -> dict[str, str]:
        """The laptop's environment for ``user``: their agent, a UTF-8 locale."""
        env = {**os.environ, "SSH_AUTH_SOCK": self.agents[user][1], "LANG": "C.UTF-8"}
        env.pop("LC_ALL", None)
        return env

    def ssh(self, user: str, command: str) -> tuple[int, str]:
        argv = ["ssh", "-tt", "-A", *self.options(user), f"{user}@127.0.0.1", command]
        run = subprocess.run(argv, capture_output=True, env=self.env(user), stdin=subprocess.DEVNULL, timeout=TIMEOUT)
        out = (run.stdout + run.stderr).decode("utf-8", errors="replace").replace("\r\n", "\n")
        return run.returncode, out

    def step(
        self,
        user: str,
        command: str,
        what: str,
        status: int = 0,
        says: tuple[str, ...] = (),
        absent: tuple[str, ...] = (),
        in_folder: bool = True,
    ) -> str:
        """``command`` as ``user`` over SSH (in the contest's folder): OK when it exits ``status``
        and its output has every piece of ``says`` and none of ``absent``."""
        full = f"cd {self.srv} && {command}" if in_folder else command
        shown = f"ssh -tt -A -p {self.port} ... {user}@127.0.0.1 {shlex.quote(full)}"
        try:
            code, out = self.ssh(user, full)
        except subprocess.TimeoutExpired:
            self.fail(f"{what}: no answer in {TIMEOUT} s", shown)
            return ""
        missing = [s for s in says if s not in out]
        extra = [s for s in absent if s in out]
        if code != status or missing or extra:
            why = (
                f"exit {code}, expected {status}"
                if code != status
                else "output lacks " + ", ".join(map(repr, missing))
                if missing
                else "output has " + ", ".join(map(repr, extra))
            )
            self.fail(f"{what} ({why})", shown, out)
        else:
            self.ok(what)
        return out

    # -- the laptops' terminals -----------------------------------------------------------------

    def tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The laptops' terminal emulator: a tmux server of the script's own (ROOT/laptop/tmux.sock,
        not root's), each window 160x50, UTF-8; a window whose ssh ended stays (remain-on-exit),
        so that its last words can be read."""
        env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "LC_ALL")}
        env["LANG"] = "C.UTF-8"
        conf = self.laptop / "tmux.conf"
        if not conf.exists():
            conf.write_text("set -g remain-on-exit on\n", encoding="utf-8")
        argv = ["tmux", "-u", "-f", str(conf), "-S", str(self.laptop / "tmux.sock"), *args]
        return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=30)

    def terminal(self, name: str, user: str, remote: str, *extra: str) -> None:
        """A terminal on ``user``'s laptop (TERM=xterm-256color) in which they run
        ``ssh -tt -A [extra] user@127.0.0.1 remote``."""
        argv = ["env", f"SSH_AUTH_SOCK={self.agents[user][1]}", "TERM=xterm-256color"]
        argv += ["ssh", "-tt", "-A", *self.options(user), *extra, f"{user}@127.0.0.1", remote]
        self.tmux("kill-session", "-t", name)  # a window of that name whose ssh ended
        # (the window says how ssh ended: tmux's own pane_dead_status now and then stays empty)
        command = shlex.join(argv) + '; echo "[ssh ended: $?]"'
        made = self.tmux("new-session", "-d", "-s", name, "-x", "160", "-y", "50", command)
        if made.returncode != 0:
            self.fail(f"could not open the laptop's terminal {name}", shlex.join(argv), made.stderr)
        self.windows.add(name)

    def screen(self, name: str, history: int = 0) -> str:
        """What terminal ``name`` shows (with ``history`` lines scrolled off above it)."""
        return self.tmux("capture-pane", "-p", "-S", str(-history), "-t", name).stdout

    def expect_screen(
        self,
        name: str,
        what: str,
        says: tuple[str, ...] = (),
        absent: tuple[str, ...] = (),
        match: str | None = None,
        timeout: float = 20.0,
    ) -> bool:
        """OK when terminal ``name`` shows every piece of ``says`` (and ``match``, a regular
        expression) and none of ``absent`` within ``timeout`` seconds (the time taken is printed)."""
        if name not in self.windows:
            self.fail(f"{what}: the terminal {name} was never opened")
            return False
        start = time.monotonic()
        while True:
            screen = self.screen(name)
            missing = [s for s in says if s not in screen] + ([match] if match and not re.search(match, screen) else [])
            extra = [s for s in absent if s in screen]
            took = time.monotonic() - start
            if not missing and not extra:
                self.ok(f"{what} ({took:.1f} s)")
                return True
            if took > timeout:
                why = "lacks " + ", ".join(map(repr, missing)) if missing else "has " + ", ".join(map(repr, extra))
                self.fail(f"{what}: after {timeout:.0f} s the screen {why}", f"tmux capture-pane -p -t {name}", screen)
                return False
            time.sleep(0.2)

    def expect_end(self, name: str, what: str, timeout: float = 20.0) -> bool:
        """OK when the ssh in terminal ``name`` ends with exit status 0 within ``timeout`` s."""
        start = time.monotonic()
        while True:
            screen = self.screen(name, history=10)  # (the line can scroll off, the pane's end below it)
            ended = re.search(r"\[ssh ended: (\d+)\]", screen)
            if ended and ended.group(1) == "0":
                self.ok(f"{what} ({time.monotonic() - start:.1f} s)")
                return True
            if ended or time.monotonic() - start > timeout:
                end = f"exit {ended.group(1)}" if ended else f"still running after {timeout:.0f} s"
                self.fail(f"{what}: the connection did not end with exit 0 ({end})", "", screen)
                return False
            time.sleep(0.2)

    def from_laptop(self, user: str, literal: str, what: str, folder: Path) -> bool:
        """The guide's ``scp`` line, run as written on ``user``'s laptop (in ``folder``), after the
        substitutions (user@host -> user@127.0.0.1, -P PORT and the key)."""
        command = re.sub(r"(?<=@)host(?=:)", "127.0.0.1", self.substitute(literal))
        argv = shlex.split(command)  # as a shell would: the quotes go, a quoted * stays for the remote side
        argv[1:1] = self.options(user, "-P")
        run = subprocess.run(argv, cwd=folder, env=self.env(user), capture_output=True, text=True, timeout=TIMEOUT)
        if run.returncode != 0:
            self.fail(f"{what} (exit {run.returncode})", f"cd {folder} && {shlex.join(argv)}", run.stdout + run.stderr)
            return False
        self.ok(what)
        return True

    # -- set-up ------------------------------------------------------------------------------

    def exists(self, name: str) -> bool:
        try:
            pwd.getpwnam(name)
            return True
        except KeyError:
            return False

    def clear_leftovers(self) -> None:
        """Remove a former run's throwaway accounts; refuse an account that is not one."""
        for name in self.names.values():
            if not self.exists(name):
                continue
            if pwd.getpwnam(name).pw_gecos != MARK:
                raise Abort(f"account {name} exists and is not a throwaway of this script: choose another --prefix")
            print(f"removing {name}, left by a former run", flush=True)
            self.remove_user(name)
        try:
            members = grp.getgrnam(self.group).gr_mem
        except KeyError:
            return
        others = [m for m in members if m not in self.names.values()]
        if others:
            raise Abort(f"group {self.group} exists with members {others}: choose another --prefix")
        print(f"removing group {self.group}, left by a former run", flush=True)
        subprocess.run(["groupdel", self.group], check=True)

    def ensure_sshd(self) -> None:
        missing = [
            pkg
            for pkg, path in (("openssh-server", SSHD), ("openssh-client", "/usr/bin/ssh"), ("tmux", "/usr/bin/tmux"))
            if not Path(path).exists()
        ]
        if not missing:
            return
        print(
            f"{' and '.join(missing)} missing: installing with apt-get",
            flush=True,
        )
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *missing]):
            got = subprocess.run(argv, env=env, capture_output=True, text=True)
            if got.returncode != 0:
                print(got.stdout + got.stderr, file=sys.stderr)
                raise Abort(f"could not install {' '.join(missing)} ({' '.join(argv)}: exit {got.returncode})")

    def make_root(self) -> None:
        if self.given_root is None:
            self.root = Path(tempfile.mkdtemp(prefix="pgcheck.", dir="/tmp"))
            self.made_root = True
        else:
            self.root = self.given_root.resolve()
            if self.root.exists() and any(self.root.iterdir()):
                raise Abort(f"--root {self.root} is not empty")
            self.made_root = not self.root.exists()
            self.root.mkdir(parents=True, exist_ok=True)
        if not re.fullmatch(r"[\w./-]+", str(self.root)):
            raise Abort(f"--root {self.root}: letters, digits, . _ - and / only")
        # Every account walks through ROOT to the contest's folder and the installed tool.
        path = self.root
        while path != path.parent:
            if not os.stat(path).st_mode & 0o001:
                if path == self.root or path.is_relative_to(self.root):
                    os.chmod(path, 0o755)
                else:
                    raise Abort(f"{path} cannot be traversed by other accounts: choose another --root")
            path = path.parent
        (self.root / "usr" / "local" / "bin").mkdir(parents=True)
        os.chmod(self.root / "usr", 0o755)
        os.chmod(self.root / "usr" / "local", 0o755)
        os.chmod(self.root / "usr" / "local" / "bin", 0o755)
        self.srv = self.root / "srv" / "panel"
        self.laptop = self.root / "laptop"  # the laptops' side: their terminals, the files they scp
        self.laptop.mkdir(mode=0o700)

    def keys_and_logins(self) -> None:
        keys = self.root / "keys"
        keys.mkdir(mode=0o700)
        for user in self.names.values():
            subprocess.run(["usermod", "-c", MARK, "-p", "*", user], check=True)
            key = keys / user
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", user, "-f", str(key)], check=True, timeout=30
            )
            entry = pwd.getpwnam(user)
            dot = Path(entry.pw_dir) / ".ssh"
            dot.mkdir(mode=0o700, exist_ok=True)
            shutil.copy(f"{key}.pub", dot / "authorized_keys")
            os.chmod(dot / "authorized_keys", 0o600)
            for p in (dot, dot / "authorized_keys"):
                os.chown(p, entry.pw_uid, entry.pw_gid)
            sock = str(keys / f"{user}.agent")
            agent = subprocess.run(["ssh-agent", "-s", "-a", sock], capture_output=True, text=True, check=True)
            pid = int(re.search(r"SSH_AGENT_PID=(\d+)", agent.stdout).group(1))  # type: ignore[union-attr]
            self.agents[user] = (pid, sock)
            subprocess.run(
                ["ssh-add", "-q", str(key)], env={**os.environ, "SSH_AUTH_SOCK": sock}, check=True, capture_output=True
            )
        self.ok("keys: an ed25519 key, authorized_keys and an ssh-agent per person")

    def start_sshd(self) -> None:
        if not Path("/run/sshd").exists():
            os.makedirs("/run/sshd", mode=0o755)
            self.made_run_sshd = True
        conf = self.root / "sshd"
        conf.mkdir(mode=0o700)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(conf / "host_ed25519")], check=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        path = f"{self.root}/usr/local/bin:/usr/local/bin:/usr/bin:/bin"
        (conf / "sshd_config").write_text(
            f"Port {self.port}\n"
            "ListenAddress 127.0.0.1\n"
            f"HostKey {conf}/host_ed25519\n"
            f"PidFile {conf}/sshd.pid\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "PubkeyAuthentication yes\n"
            "AuthorizedKeysFile .ssh/authorized_keys\n"
            "PermitRootLogin no\n"
            "AllowAgentForwarding yes\n"
            "UsePAM no\n"
            "AcceptEnv LANG LC_*\n"
            "Subsystem sftp internal-sftp\n"  # as every distribution's sshd_config: scp runs over SFTP
            f"AllowUsers {' '.join(self.names.values())}\n"
            f"SetEnv PATH={path}\n",
            encoding="utf-8",
        )
        test = subprocess.run([SSHD, "-t", "-f", str(conf / "sshd_config")], capture_output=True, text=True)
        if test.returncode != 0:
            self.fail("sshd config", f"{SSHD} -t -f {conf}/sshd_config", test.stderr)
            raise Abort("sshd")
        log = (conf / "sshd.log").open("wb")
        self.sshd = subprocess.Popen([SSHD, "-D", "-e", "-f", str(conf / "sshd_config")], stderr=log, stdout=log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                self.ok(f"sshd on 127.0.0.1:{self.port} (config {conf}/sshd_config)")
                return
            if self.sshd.poll() is not None:
                break
            time.sleep(0.1)
        self.fail("sshd did not start", "", (conf / "sshd.log").read_text(errors="replace"))
        raise Abort("sshd")

    def secretary_edits(self) -> None:
        """[roles] and signers, as kim does in step 2 (the file keeps the owner the guide gave it)."""
        config = self.srv / "config.toml"
        text = config.read_text(encoding="utf-8")
        roles = f'[roles]\nsecretary = ["{self.secretary}"]\nchair = ["{self.chair}"]\nmembers = ["{self.member}"]\n'
        text, n = re.subn(r"^\[roles\]\n(?:[^\[\n].*\n|\n)*?(?=^\[|\Z)", roles + "\n", text, flags=re.M)
        text, m = re.subn(r"^\[contest\]\n", '[contest]\nsigners = "signers.txt"\n', text, flags=re.M)
        if n != 1 or m != 1:
            raise Abort("the demo's config.toml has no [roles] or [contest] to edit")
        config.write_text(text, encoding="utf-8")
        lines = []
        for user in (self.secretary, self.chair, self.member):
            public = (self.root / "keys" / f"{user}.pub").read_text().split()
            lines.append(f'{user} namespaces="panel-tui" {public[0]} {public[1]}\n')
        (self.srv / "signers.txt").write_text("".join(lines), encoding="utf-8")
        self.ok("the secretary's edits: [roles] and signers in config.toml, signers.txt")

    # -- the run -----------------------------------------------------------------------------

    def run(self) -> int:
        self.read_guide()
        blocks = self.blocks()
        if len(blocks) < 2:
            raise Abort("the meeting guide no longer has its two shell blocks (install; accounts and folders)")
        self.ensure_sshd()
        self.clear_leftovers()
        self.make_root()
        print(f"throwaway root {self.root}; accounts {', '.join(self.names.values())}; group {self.group}", flush=True)
        install, accounts = (self.substitute(b) for b in blocks[:2])
        for block in (install, accounts):
            bad = self.outside(block)
            if bad:
                self.fail("the guide's commands name paths outside the throwaway root", block, "\n".join(bad))
                raise Abort("paths")
        self.sh(install, "step 1: install (venv, pip install of the repository, the link)")
        self.sh(accounts, "step 2: accounts, the group, the shared folder")
        self.keys_and_logins()
        self.start_sshd()
        self.secretary_edits()
        self.meeting()
        return 1 if self.failures else 0

    def meeting(self) -> None:
        sec, chair, member, proj = self.secretary, self.chair, self.member, self.projector
        session = "sessions/2022.sqlite"
        if self.says("cd /srv/panel && panel-tui session init"):
            self.step(sec, "panel-tui session init", "session init by the secretary", says=(session,))
        if self.says("panel-tui validate"):
            for user, role in ((sec, "secretary"), (chair, "chair"), (member, "member")):
                self.step(
                    user,
                    "panel-tui validate",
                    f"validate by the {role}: can read, write and sign",
                    says=(f"{user} ({role}) can read and write it", f"{user} can sign events"),
                    absent=("warning  session", "warning  signed journal"),
                )
            self.step(
                proj,
                "panel-tui validate",
                "validate by the projector: a viewer that reads",
                says=(f"{proj} (viewer) can read it, not write it", f"{proj} is a viewer here"),
            )
        self.consoles()
        if self.says("panel-tui note [--candidate ID", where="readme"):
            self.step(member, "panel-tui note --candidate C01 'checked the evidence'", "a note by the member")
            self.expect_screen(
                "kim", "the member's note shows on the secretary's running console (C01 ✎1)", match=r"C01 .*✎1"
            )
        if self.says("panel-tui focus --candidate ID", where="readme"):
            self.step(sec, "panel-tui focus --candidate C24", "focus by the secretary")
            shown = ("Under discussion: Seoul Gangseo-gu (서울 강서구)",)
            self.expect_screen("display", "the focus shows on the projector's running display", says=shown)
            self.expect_screen("kim", "the focus shows on the secretary's running console", says=shown)
        self.new_scores()
        self.reconnect()
        self.serve()
        self.step(proj, "panel-tui rank", "the projector reads: rank", says=("S01",))
        self.step(proj, "panel-tui log", "the projector reads: log", says=("checked the evidence",))
        self.step(proj, "panel-tui note 'from the projector'", "a write by the projector is refused", status=3)
        self.step(
            proj,
            f'python3 -c \'open("{session}", "ab")\'',
            "the projector cannot open the session file for writing",
            status=1,
            says=("PermissionError",),
        )
        self.step(
            member,
            f"mkdir -p ~/mine && cp -r config.toml signers.txt data ~/mine/"
            f" && sed -i -e 's/^secretary = .*/secretary = [\"{member}\"]/' -e 's/^members = .*/members = [\"{sec}\"]/'"
            " ~/mine/config.toml && panel-tui note --config ~/mine/config.toml 'I am the secretary now'",
            "a member's own config naming them secretary writes nothing",
            status=3,
            says=("not the ones this session started with",),
        )
        if self.says("panel-tui lock"):
            self.step(
                sec, "panel-tui lock", "the lock is refused while C24 is pending and S01/S02 tied", 3, ("C24", "S01")
            )
        if self.says("panel-tui decide tie --category ID --order ID,ID,... --reason TEXT", where="readme"):
            self.step(
                sec,
                "panel-tui decide tie --category service --order S01,S02 --reason 'the panel prefers S01 on A1'",
                "decide tie by the secretary",
            )
        if self.says("panel-tui decide exclude --candidate ID --code withdrawn", where="readme"):
            self.step(
                sec,
                "panel-tui decide exclude --candidate C24 --code withdrawn --reason 'withdrawn by letter'",
                "decide exclude by the secretary",
            )
        self.step(sec, "panel-tui lock", "lock proposed by the secretary", says=("lock proposed by",))
        out = ""
        if self.says("panel-tui confirm-lock"):
            out = self.step(chair, "panel-tui confirm-lock", "confirm-lock by the chair", says=("FINGERPRINT",))
        found = re.search(r"FINGERPRINT\s+(\S+)", out)
        if self.says("panel-tui export --format md --out exports"):
            self.step(sec, "panel-tui export --format md --out exports", "export by the secretary", says=("wrote",))
            if not list((self.srv / "exports").glob("*.md")):
                self.fail("the export is not in the shared exports folder", "", "")
            self.fetch_exports()
        if not found:
            self.fail("no fingerprint from confirm-lock: verify not run")
        elif self.says("cd /srv/panel && panel-tui verify --fingerprint XXXX-XXXX-XXXX-XXXX"):
            self.step(
                proj,
                f"panel-tui verify --fingerprint {found.group(1)}",
                "verify --fingerprint by the projector",
                says=("verified: everything holds",),
            )

    BOARD = "Incheon (인천광역시)"  # the first row of the demo's first board
    CONSOLE = "cd /srv/panel && tmux new -A -s panel 'panel-tui; read line'"

    def consoles(self) -> None:
        """Steps 3 and 4 in the laptops' terminals: the secretary's console in tmux over ssh -tt -A,
        the projector's display over ssh -tt."""
        sec, proj = self.secretary, self.projector
        if self.says("locale charmap"):
            self.step(sec, "locale charmap", "step 3: the secretary's session speaks UTF-8", says=("UTF-8",))
        if self.says("ssh -A kim@host") and self.says(self.CONSOLE):
            self.terminal("kim", sec, self.substitute(self.CONSOLE))
            seen = (self.BOARD, f"{sec}: secretary")
            if self.expect_screen(
                "kim",
                "step 3: the secretary's console in tmux over ssh -tt -A: the boards, the header "
                f"'{sec}: secretary', the secretary's keys",
                says=(*seen, "f Focus", "n Note", "x Exclude"),
            ):
                self.step(
                    sec,
                    f"tmux capture-pane -p -t {self.substitute('panel')}",
                    "step 3: the same screen in the secretary's own tmux session (tmux capture-pane -p)",
                    says=seen,
                )
        if self.says("ssh projector@host") and self.says("cd /srv/panel && panel-tui --display"):
            self.terminal("display", proj, self.substitute("cd /srv/panel && panel-tui --display"))
            self.expect_screen(
                "display",
                "step 4: the projector's display over ssh -tt: the boards, 'display (read-only)', no secretary's keys",
                says=(self.BOARD, "display (read-only)"),
                absent=("f Focus", "n Note", "x Exclude", "d Discuss", f"{proj}:"),
            )

    def new_scores(self) -> None:
        """Step 5: a new scores file arrives mid-meeting, from the secretary's laptop."""
        upload = "scp scores.csv kim@host:/srv/panel/data/scores.csv.new"
        replace = "cd /srv/panel && chmod 644 data/scores.csv.new && mv data/scores.csv.new data/scores.csv"
        if not (self.says(upload) and self.says(replace)):
            return
        folder = self.laptop / "kim"
        folder.mkdir(exist_ok=True)
        # The late scores: C10's one point lower (neither the tie nor the pending candidate moves),
        # in a file only its owner may read, as a download often is: scp keeps that mode.
        lines = (DEMO / "data" / "scores.csv").read_text(encoding="utf-8").splitlines(keepends=True)
        late = [
            f"{row[0]},{row[1]},{row[2]},{float(row[3]) - 1:g}\n"
            if (row := line.rstrip("\n").split(","))[0] == "C10"
            else line
            for line in lines
        ]
        new = folder / "scores.csv"
        new.write_text("".join(late), encoding="utf-8")
        os.chmod(new, 0o600)
        if not self.from_laptop(
            self.secretary, upload, "step 5: the new scores file copied beside the old one (scp)", folder
        ):
            return
        self.step(
            self.secretary,
            self.substitute(replace),
            "step 5: ... made readable and moved over the old one",
            in_folder=False,
        )
        if (self.srv / "data" / "scores.csv").read_bytes() != new.read_bytes():
            self.fail("step 5: data/scores.csv is not the new file")
        for name, whose in (("kim", "the secretary's console"), ("display", "the projector's display")):
            self.expect_screen(
                name, f"step 5: {whose} says 'scores.csv reloaded'", says=("scores.csv reloaded",), absent=("refused",)
            )

    def reconnect(self) -> None:
        """Steps 3 and 6: the secretary's connection drops; reattach, quit, start again, and the
        console records through the new connection's agent; then both consoles quit."""
        sec, session = self.secretary, self.substitute("panel")
        if "kim" not in self.windows:
            return
        self.tmux("kill-session", "-t", "kim")  # the laptop's terminal closes: ssh and the connection go
        self.detached(
            sec, session, "step 3: a dropped connection only detaches: the secretary's tmux session is still there"
        )
        if self.says("`ssh -A` again and `tmux attach -t panel`"):
            self.terminal("kim", sec, self.substitute("tmux attach -t panel"))
            self.expect_screen(
                "kim", "step 3: ssh -A again and tmux attach -t panel: the console is back", says=(self.BOARD,)
            )
        self.quit_console("step 3: ")
        if self.says("start it again with the same `cd /srv/panel && tmux new ...` line") and self.says(self.CONSOLE):
            self.terminal("kim", sec, self.substitute(self.CONSOLE))
            if self.expect_screen("kim", "step 3: the console started again", says=(self.BOARD, f"{sec}: secretary")):
                self.tmux("send-keys", "-t", "kim", "f")
                shown = (f"Under discussion: {self.BOARD}",)
                self.expect_screen(
                    "display",
                    "step 5: f in the restarted console records the focus (signed through the new agent); "
                    "the projector's display shows it",
                    says=shown,
                )
            self.quit_console("")
        if "display" in self.windows:
            self.tmux("send-keys", "-t", "display", "q")
            self.expect_end("display", "the projector's display quits with q; its connection ends")

    def detached(self, user: str, session: str, what: str) -> None:
        """OK when ``user``'s tmux ``session`` is there with no client: the laptop's went with the
        connection."""
        none = f'[ -z "$(tmux list-clients -t {session})" ]'
        self.step(
            user,
            f"for i in 1 2 3 4 5 6 7 8 9 10; do {none} && break; sleep 0.2; done; tmux has-session -t {session} && {none}",
            what,
        )

    def quit_console(self, step: str) -> None:
        """q, then Enter for the ``read line``: the console, its tmux session, the connection end."""
        sec, session = self.secretary, self.substitute("panel")
        self.tmux("send-keys", "-t", "kim", "q")
        if self.expect_screen("kim", f"{step}q quits the secretary's console", absent=(self.BOARD,)):
            self.step(
                sec,
                f"tmux has-session -t {session}",
                f"{step}... and `read line` keeps its window open until Enter (the tmux session is still there)",
            )
        self.tmux("send-keys", "-t", "kim", "Enter")
        self.expect_end("kim", f"{step}Enter closes the secretary's tmux session; the connection ends")

    def serve(self) -> None:
        """Step 4, in a browser: ``panel-tui serve`` in tmux from the projector's account, the page
        through the ssh tunnel, then Ctrl+C."""
        tunnel, command = (
            "ssh -L 8000:127.0.0.1:8000 projector@host",
            "cd /srv/panel && tmux new -A -s serve 'panel-tui serve --font-size 24'",
        )
        if not (self.says(tunnel) and self.says(command) and self.says("open `http://localhost:8000` on the laptop")):
            return
        with socket.socket() as a, socket.socket() as b:  # the laptop's end and serve's, both free
            a.bind(("127.0.0.1", 0))
            b.bind(("127.0.0.1", 0))
            here, there = a.getsockname()[1], b.getsockname()[1]
        remote = self.substitute(command).replace("panel-tui serve", f"panel-tui serve --port {there}")
        self.terminal("serve", self.projector, remote, "-L", f"{here}:127.0.0.1:{there}")
        base = f"http://localhost:{here}"
        page, took, error = self.fetch_page(f"{base}/")
        if not page:
            self.fail(
                f"step 4: no page at {base}/ through the tunnel within 30 s ({error})", remote, self.screen("serve")
            )
        else:
            urls = re.findall(r"""\b(?:https?|wss?)://[^\s"'<>)]+""", page)
            foreign = [u for u in urls if not re.match(rf"(?:https?|wss?)://localhost:{here}/", u)]
            linked = [urllib.parse.urljoin(f"{base}/", u) for u in re.findall(r'(?:href|src)="([^"]+)"', page)]
            fonts = []
            for url in linked:
                body, _, error = self.fetch_page(url, wait=0)
                fonts += [f"{url}: {error}"] if error else []
                fonts += re.findall(r"""fonts\.googleapis|fonts\.gstatic|url\(\s*['"]?(?:https?:)?//[^)]*""", body)
            if (
                "<title>2022 Smart City and Smart Service Certification</title>" not in page
                or 'data-font-size="24"' not in page
                or foreign
                or fonts
                or not linked
            ):
                self.fail(
                    "step 4: the page through the tunnel: its title, font size 24, its files from the same "
                    "address, no external font",
                    f"curl {base}/",
                    page + "\nforeign: " + " ".join(foreign) + "\nfonts or errors: " + " ".join(fonts),
                )
            else:
                self.ok(
                    f"step 4: panel-tui serve in tmux as the projector: {base}/ answers through the ssh tunnel "
                    f"({took:.1f} s), font size 24, its {len(linked)} files from the same address, no external font"
                )
        # The projector laptop's connection drops: serve goes on in tmux; the same two lines again
        # reattach and the page answers through the new tunnel.
        self.tmux("kill-session", "-t", "serve")
        self.detached(self.projector, "serve", "step 4: the connection dropped: serve's tmux session is still there")
        page, _, error = self.fetch_page(f"http://127.0.0.1:{there}/", wait=2)
        if not page:
            self.fail(f"step 4: serve did not survive the dropped connection ({error})")
        else:
            self.ok("step 4: ... and serve still answers on its port")
        self.terminal("serve", self.projector, remote, "-L", f"{here}:127.0.0.1:{there}")
        page, took, error = self.fetch_page(f"{base}/")
        if (
            self.expect_screen(
                "serve", "step 4: ssh -L and the same tmux line again: reattached to serve", says=(f":{there}",)
            )
            and page
        ):
            self.ok(f"step 4: ... and the page answers through the new tunnel ({took:.1f} s)")
        elif not page:
            self.fail(f"step 4: no page through the new tunnel ({error})")
        self.tmux("send-keys", "-t", "serve", "C-c")
        if self.expect_end("serve", "step 4: Ctrl+C stops serve; its tmux session and the connection end"):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", there)) == 0:
                    self.fail(f"step 4: something still listens on serve's port {there}")

    @staticmethod
    def fetch_page(url: str, wait: float = 30) -> tuple[str, float, str]:
        """(the text at ``url``, the seconds it took to answer, the last error), asking again for
        up to ``wait`` seconds."""
        start, error = time.monotonic(), ""
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as answer:
                    return answer.read().decode("utf-8", errors="replace"), time.monotonic() - start, ""
            except (OSError, ValueError) as exc:
                error = str(exc)
            if time.monotonic() - start >= wait:
                return "", time.monotonic() - start, error
            time.sleep(0.3)

    def fetch_exports(self) -> None:
        """Step 8: the secretary fetches the exports to their laptop with the guide's scp."""
        fetch = "scp 'kim@host:/srv/panel/exports/*' ."
        if not self.says(fetch):
            return
        folder = self.laptop / "exports"
        folder.mkdir()
        if not self.from_laptop(self.secretary, fetch, "step 8: the exports fetched with scp", folder):
            return
        made = sorted(p.name for p in (self.srv / "exports").iterdir())
        same = [
            n
            for n in made
            if (folder / n).is_file() and (folder / n).read_bytes() == (self.srv / "exports" / n).read_bytes()
        ]
        if not made or same != made:
            self.fail(f"step 8: the fetched files differ: on the host {made}, the same on the laptop {same}")
        else:
            self.ok(f"step 8: ... the same bytes as on the host ({', '.join(made)})")

    # -- clean-up ----------------------------------------------------------------------------

    def remove_user(self, name: str) -> None:
        for _ in range(20):
            gone = subprocess.run(["userdel", "-r", name], capture_output=True, text=True)
            if gone.returncode in (0, 6):  # 6: no such user
                return
            time.sleep(0.25)  # a session's processes still ending
        print(f"warning: userdel -r {name}: {gone.stderr.strip()}", file=sys.stderr)

    def end_processes(self, name: str) -> None:
        """What this run started as the throwaway account (its tmux servers, a console or serve
        a failed step left running): each process of that account, by its id."""
        uid = pwd.getpwnam(name).pw_uid
        for sig, wait in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 0.0)):
            pids = [int(d.name) for d in Path("/proc").iterdir() if d.name.isdigit() and _owner(d) == uid]
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + wait
            while pids and time.monotonic() < deadline:
                pids = [pid for pid in pids if Path(f"/proc/{pid}").exists()]
                time.sleep(0.1)

    def cleanup(self) -> None:
        if self.keep:
            users = " ".join(self.names.values())
            print(
                f"--keep: left for inspection: accounts {users}, group {self.group}, ROOT {self.root}, "
                f"sshd on port {self.port} (pid {self.sshd.pid if self.sshd else '-'}), agents "
                f"{' '.join(str(pid) for pid, _ in self.agents.values())}.\n"
                f"ssh as one: SSH_AUTH_SOCK={self.root}/keys/USER.agent ssh -A -p {self.port} -o UserKnownHostsFile=/dev/null "
                f"-i {self.root}/keys/USER USER@127.0.0.1\n"
                f"the laptops' terminals: tmux -S {self.laptop}/tmux.sock ls (attach -t NAME to look)\n"
                f"remove them: tmux -S {self.laptop}/tmux.sock kill-server; "
                f"for u in {users}; do pkill -u $u; done; kill {self.sshd.pid if self.sshd else ''} "
                f"{' '.join(str(pid) for pid, _ in self.agents.values())}; "
                f"for u in {users}; do userdel -r $u; done; groupdel {self.group}; rm -rf {self.root}",
                flush=True,
            )
            return
        if self.windows:
            self.tmux("kill-server")  # the laptops' terminals: their ssh connections end
        if self.sshd is not None:
            self.sshd.terminate()
            try:
                self.sshd.wait(10)
            except subprocess.TimeoutExpired:
                self.sshd.kill()
        for pid, _ in self.agents.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for name in self.names.values():
            if self.exists(name) and pwd.getpwnam(name).pw_gecos == MARK:
                self.end_processes(name)
                self.remove_user(name)
        with contextlib.suppress(KeyError):
            grp.getgrnam(self.group)
            subprocess.run(["groupdel", self.group], check=False)
        if self.made_root:
            shutil.rmtree(self.root, ignore_errors=True)
        elif self.root.exists() and self.root != Path("/nonexistent"):
            for child in self.root.iterdir():
                (shutil.rmtree if child.is_dir() and not child.is_symlink() else os.unlink)(child)
        if self.made_run_sshd:
            with contextlib.suppress(OSError):
                os.rmdir("/run/sshd")


def _owner(proc: Path) -> int | None:
    try:
        return proc.stat().st_uid
    except OSError:
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--prefix", default="pg", help="prefix of the throwaway accounts and group (default: pg)")
    parser.add_argument("--root", type=Path, help="an empty or new folder for /srv/panel, /opt/panel-tui, keys, sshd")
    parser.add_argument("--keep", action="store_true", help="leave accounts, group, sshd and folders for inspection")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("meeting_guide_check: run as root (it creates accounts and an sshd)", file=sys.stderr)
        return 2
    if not re.fullmatch(r"[a-z][a-z0-9]{0,15}", args.prefix):
        print("meeting_guide_check: --prefix: lower-case letters and digits, a letter first", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # a killed run still cleans up
    started = time.monotonic()
    check = Check(args.prefix, args.root, args.keep)
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one run at a time: the accounts have fixed names
        try:
            status = check.run()
        except Abort as exc:
            print(f"stopped: {exc}", flush=True)
            status = 1 if check.failures else 2
        finally:
            check.cleanup()
    took = time.monotonic() - started
    print(f"{'all steps OK' if status == 0 else f'{len(check.failures)} step(s) FAILED'} in {took:.0f} s", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
