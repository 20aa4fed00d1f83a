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

Before running the substituted blocks the script refuses any absolute path in them outside ROOT,
the repository and /dev/null, /usr/bin/python3 (a new line in the guide naming a system path
needs a substitution here first).

What the guide leaves to the administrator and the secretary, done here by root:
  - an sshd of its own on 127.0.0.1, a free port, its own config and host key (ListenAddress
    127.0.0.1, PasswordAuthentication no, AllowAgentForwarding yes, UsePAM no, AcceptEnv LANG
    LC_*); openssh-server is installed with apt only when /usr/sbin/sshd is missing;
  - ``usermod -p '*'`` on each account (useradd leaves the password locked, which sshd refuses
    for key logins too when UsePAM is off), and each person's ed25519 key, generated as root in
    ROOT/keys, in their ~/.ssh/authorized_keys and in an ssh-agent of their own (``ssh -A``);
  - the secretary's edits: [roles] of config.toml set to the throwaway names, ``signers =
    "signers.txt"`` under [contest], signers.txt filled in (owner and mode kept as the guide set
    them).

Then, each over SSH as the person the guide names: ``session init`` (secretary), ``validate``
(everyone: the secretary, chair and member can read, write and sign; the projector is a viewer
that reads), a note (member), focus (secretary), the projector reads (``rank``, ``log``) but a
write is refused (exit 3) and it cannot open the session file for writing itself, a member's
own config naming them secretary writes nothing (exit 3, "not the ones this session started
with"), the lock refused while C24 is pending and S01/S02 tied, the secretary's ``decide tie``
and ``decide exclude``, ``lock`` (secretary), ``confirm-lock`` (chair), ``export --format md --out
exports`` (secretary), ``verify --fingerprint FP`` (projector).

``--keep`` leaves the accounts, group, sshd and ROOT for inspection (it prints how to remove
them); otherwise all of them go at the end, also after a failure. The throwaway accounts carry
the comment "meeting_guide_check throwaway": a later run removes such leftovers, and refuses to
touch an existing account without it.
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

    def ssh(self, user: str, command: str) -> tuple[int, str]:
        key = self.root / "keys" / user
        argv = [
            "ssh", "-tt", "-A", "-p", str(self.port),
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR", "-o", "SendEnv=LANG",
            "-i", str(key), f"{user}@127.0.0.1", command,
        ]  # fmt: skip
        env = {**os.environ, "SSH_AUTH_SOCK": self.agents[user][1], "LANG": "C.UTF-8"}
        env.pop("LC_ALL", None)
        run = subprocess.run(argv, capture_output=True, env=env, stdin=subprocess.DEVNULL, timeout=TIMEOUT)
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
            for pkg, path in (("openssh-server", SSHD), ("openssh-client", "/usr/bin/ssh"))
            if not Path(path).exists()
        ]
        if not missing:
            return
        print(
            f"{SSHD if 'openssh-server' in missing else 'ssh'} is missing: installing {' '.join(missing)} with apt-get",
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
        if self.says("panel-tui note [--candidate ID", where="readme"):
            self.step(member, "panel-tui note --candidate C01 'checked the evidence'", "a note by the member")
        if self.says("panel-tui focus --candidate ID", where="readme"):
            self.step(sec, "panel-tui focus --candidate C24", "focus by the secretary")
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
        if not found:
            self.fail("no fingerprint from confirm-lock: verify not run")
        elif self.says("cd /srv/panel && panel-tui verify --fingerprint XXXX-XXXX-XXXX-XXXX"):
            self.step(
                proj,
                f"panel-tui verify --fingerprint {found.group(1)}",
                "verify --fingerprint by the projector",
                says=("verified: everything holds",),
            )

    # -- clean-up ----------------------------------------------------------------------------

    def remove_user(self, name: str) -> None:
        for _ in range(20):
            gone = subprocess.run(["userdel", "-r", name], capture_output=True, text=True)
            if gone.returncode in (0, 6):  # 6: no such user
                return
            time.sleep(0.25)  # a session's processes still ending
        print(f"warning: userdel -r {name}: {gone.stderr.strip()}", file=sys.stderr)

    def cleanup(self) -> None:
        if self.keep:
            users = " ".join(self.names.values())
            print(
                f"--keep: left for inspection: accounts {users}, group {self.group}, ROOT {self.root}, "
                f"sshd on port {self.port} (pid {self.sshd.pid if self.sshd else '-'}), agents "
                f"{' '.join(str(pid) for pid, _ in self.agents.values())}.\n"
                f"ssh as one: SSH_AUTH_SOCK={self.root}/keys/USER.agent ssh -A -p {self.port} -o UserKnownHostsFile=/dev/null "
                f"-i {self.root}/keys/USER USER@127.0.0.1\n"
                f"remove them: kill {self.sshd.pid if self.sshd else ''} "
                f"{' '.join(str(pid) for pid, _ in self.agents.values())}; "
                f"for u in {users}; do userdel -r $u; done; groupdel {self.group}; rm -rf {self.root}",
                flush=True,
            )
            return
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
