"""Signed journal events with OpenSSH keys (the README's "The session", "Signed or unsigned").

When ``[contest] signers`` names an OpenSSH allowed-signers file (ssh-keygen(1), ALLOWED
SIGNERS), every event is signed by its author with ``ssh-keygen -Y sign -n panel-tui`` and
``verify`` checks every signature with ``ssh-keygen -Y verify``. Principals in the file are OS
login names. This module knows nothing of the journal: it signs and verifies bytes.

- ``AllowedSigners.load(path)`` parses the file as ssh-keygen reads it (principal patterns with
  commas, ``*``, ``?`` and ``!``; the options ``cert-authority``, ``namespaces="..."``,
  ``valid-after``, ``valid-before``); a bad line is an ``InputError`` naming the file and line.
- ``find_signing_key(login, signers)`` picks the key the running account signs with: a key in
  its SSH agent (``SSH_AUTH_SOCK``; with ``ssh -A`` the private key never leaves the
  secretary's laptop, and hardware keys work) listed for ``login``, else its
  ``~/.ssh/id_ed25519`` (the home of the process's effective uid, never ``$HOME``) when the
  ``.pub`` is listed. Otherwise ``Refused`` (exit 3) saying exactly what to do.
- ``sign(data, key)`` returns the armored ``SSH SIGNATURE``; ``verify(data, signature, login,
  signers_path)`` returns ``(ok, why)``; ``verify_many`` does a journal's worth in parallel.

ssh-keygen is never allowed to ask for a passphrase: the data goes in a file, stdin is
``/dev/null``, the process has no controlling terminal and ``SSH_ASKPASS_REQUIRE=never``; a
passphrase-protected key file without an agent is refused before ssh-keygen runs. Temporary
files live in a private (0700) directory removed afterwards.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import pwd
import re
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from panel_tui.config import open_regular
from panel_tui.errors import InputError, PanelError, Refused
from panel_tui.i18n import _
from panel_tui.text import one_line

NAMESPACE = "panel-tui"
KEY_FILES = ("id_ed25519",)  # under ~/.ssh, tried in this order after the agent
SIGN_TIMEOUT = 60.0  # a hardware key may wait for a touch
VERIFY_TIMEOUT = 30.0
AGENT_TIMEOUT = 10.0
KEY_TYPES = frozenset(
    {
        "ssh-ed25519",
        "ssh-rsa",
        "ssh-dss",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
    }
)
_OPTIONS = ("cert-authority", "namespaces", "valid-after", "valid-before")


class SigningUnavailable(PanelError):
    """OpenSSH's ssh-keygen is not installed (exit status 2): nothing can be signed or checked."""

    exit_status = 2


# -- SSH wire format ------------------------------------------------------------------------


def _strings(blob: bytes, offset: int = 0) -> Iterator[bytes]:
    """Yield the SSH ``string`` fields of ``blob`` from ``offset`` (uint32 length + bytes)."""
    while offset < len(blob):
        if offset + 4 > len(blob):
            raise ValueError(_("truncated length"))
        (n,) = struct.unpack(">I", blob[offset : offset + 4])
        offset += 4
        if offset + n > len(blob):
            raise ValueError(_("truncated field"))
        yield blob[offset : offset + n]
        offset += n


def _first_string(blob: bytes) -> bytes:
    return next(_strings(blob))


@dataclass(frozen=True)
class PublicKey:
    """An SSH public key: its type, its base64 blob and (not part of its identity) a comment."""

    type: str
    blob: str
    comment: str = field(default="", compare=False)

    @classmethod
    def parse(cls, text: str) -> PublicKey:
        """``type base64 [comment]`` as in a ``.pub`` file or ``ssh-add -L``; ValueError if not."""
        parts = text.strip().split(None, 2)
        if len(parts) < 2:
            raise ValueError(_("expected a key type and a base64 key"))
        return cls.from_parts(parts[0], parts[1], parts[2] if len(parts) > 2 else "")

    @classmethod
    def from_parts(cls, kind: str, b64: str, comment: str = "") -> PublicKey:
        try:
            raw = base64.b64decode(b64, validate=True)
            inner = _first_string(raw).decode("ascii")
        except (binascii.Error, ValueError, StopIteration, UnicodeDecodeError):
            raise ValueError(_("the {kind} key is not valid base64 key data").format(kind=kind)) from None
        if inner != kind:
            raise ValueError(_("the key data is a {inner} key, not {kind}").format(inner=inner, kind=kind))
        return cls(kind, base64.b64encode(raw).decode("ascii"), comment)

    @classmethod
    def from_blob(cls, raw: bytes, comment: str = "") -> PublicKey:
        kind = _first_string(raw).decode("ascii")
        return cls(kind, base64.b64encode(raw).decode("ascii"), comment)

    @property
    def fingerprint(self) -> str:
        """``SHA256:…`` as ssh-keygen -l prints it."""
        digest = hashlib.sha256(base64.b64decode(self.blob)).digest()
        return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")

    @property
    def is_certificate(self) -> bool:
        return self.type.endswith("-cert-v01@openssh.com")

    @property
    def line(self) -> str:
        """``type base64``: what goes after the principals in the signers file."""
        return f"{self.type} {self.blob}"


def fingerprint_of(key: PublicKey | SigningKey | str) -> str:
    """The SHA256 fingerprint of a public key, a signing key, or a ``type base64`` line."""
    if isinstance(key, SigningKey):
        key = key.public
    if isinstance(key, str):
        key = PublicKey.parse(key)
    return key.fingerprint


@dataclass(frozen=True)
class Signature:
    """What an armored SSH SIGNATURE says about itself (not whether it is valid)."""

    key: PublicKey
    namespace: str
    hash_algorithm: str


_ARMOR_BEGIN = "-----BEGIN SSH SIGNATURE-----"
_ARMOR_END = "-----END SSH SIGNATURE-----"


def read_signature(armored: str) -> Signature:
    """Parse an armored SSH SIGNATURE (PROTOCOL.sshsig); ValueError naming what is wrong."""
    text = armored.strip()
    if not text.startswith(_ARMOR_BEGIN) or not text.endswith(_ARMOR_END):
        raise ValueError(_("not an armored SSH SIGNATURE"))
    body = "".join(text[len(_ARMOR_BEGIN) : -len(_ARMOR_END)].split())
    try:
        raw = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(_("the signature's armor is not valid base64")) from None
    if raw[:6] != b"SSHSIG" or len(raw) < 10:
        raise ValueError(_("the signature lacks the SSHSIG header"))
    (version,) = struct.unpack(">I", raw[6:10])
    if version != 1:
        raise ValueError(f"unknown SSHSIG version {version}")
    try:
        fields = list(_strings(raw, 10))
        if len(fields) != 5:
            raise ValueError(_("wrong number of fields"))
        pub, namespace, _reserved, hash_alg, _sig = fields
        return Signature(PublicKey.from_blob(pub), namespace.decode("utf-8"), hash_alg.decode("ascii"))
    except (ValueError, StopIteration, UnicodeDecodeError) as exc:
        raise ValueError(_("the signature is malformed ({exc})").format(exc=exc)) from None


# -- the allowed-signers file -----------------------------------------------------------------


def match_pattern_list(name: str, patterns: str) -> bool:
    """OpenSSH's pattern-list match (ssh_config(5) PATTERNS): comma-separated patterns with
    ``*`` and ``?``, case-sensitive; a matching ``!pattern`` rules ``name`` out."""
    found = False
    for pattern in patterns.split(","):
        negated = pattern.startswith("!")
        if negated:
            pattern = pattern[1:]
        regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
        if re.fullmatch(regex, name, re.DOTALL):
            if negated:
                return False
            found = True
    return found


def _parse_time(value: str) -> datetime:
    """YYYYMMDD[Z] or YYYYMMDDHHMM[SS][Z]: local time unless suffixed with Z (ssh-keygen(1))."""
    utc = value.endswith(("Z", "z"))
    digits = value[:-1] if utc else value
    formats = {8: "%Y%m%d", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}
    if not digits.isdigit() or len(digits) not in formats:
        raise ValueError(_("timestamp {value!r} is not YYYYMMDD[Z] or YYYYMMDDHHMM[SS][Z]").format(value=value))
    when = datetime.strptime(digits, formats[len(digits)])
    return when.replace(tzinfo=UTC) if utc else when.astimezone()


def _split_token(text: str) -> tuple[str, str]:
    """The first whitespace-delimited token (honouring double quotes) and the rest."""
    text = text.lstrip(" \t")
    quoted = False
    i = 0
    while i < len(text) and (quoted or text[i] not in " \t"):
        if text[i] == "\\" and text[i + 1 : i + 2] == '"':
            i += 1
        elif text[i] == '"':
            quoted = not quoted
        i += 1
    if quoted:
        raise ValueError(_("unterminated double quote"))
    return text[:i], text[i:].lstrip(" \t")


def _parse_options(text: str) -> dict[str, str | bool]:
    options: dict[str, str | bool] = {}
    rest = text
    while rest:
        m = re.match(r"([A-Za-z-]+)", rest)
        if not m:
            raise ValueError(_("cannot read the options {text!r}").format(text=text))
        name = m.group(1).lower()
        rest = rest[m.end() :]
        if name not in _OPTIONS:
            raise ValueError(
                _("unknown option {value!r} (ssh-keygen knows {value2})").format(
                    value=m.group(1), value2=", ".join(_OPTIONS)
                )
            )
        if name in options:
            raise ValueError(_("option {name!r} given twice").format(name=name))
        if name == "cert-authority":
            options[name] = True
        else:
            if not rest.startswith('="'):
                raise ValueError(_('option {name!r} needs a quoted value: {name}="..."').format(name=name))
            value, i = [], 2
            while i < len(rest) and rest[i] != '"':
                if rest[i] == "\\" and rest[i + 1 : i + 2] == '"':
                    i += 1
                value.append(rest[i])
                i += 1
            if i >= len(rest):
                raise ValueError(_("option {name!r}: unterminated double quote").format(name=name))
            options[name] = "".join(value)
            rest = rest[i + 1 :]
        if rest.startswith(","):
            rest = rest[1:]
            if not rest:
                raise ValueError(_("the options end with a comma"))
        elif rest:
            raise ValueError(_("cannot read the options {text!r} (options are separated by commas)").format(text=text))
    return options


@dataclass(frozen=True)
class SignerEntry:
    """One line of the allowed-signers file."""

    line: int
    principals: str  # an OpenSSH pattern list of login names
    key: PublicKey
    namespaces: str | None = None  # a pattern list; None: any namespace
    cert_authority: bool = False
    valid_after: datetime | None = None
    valid_before: datetime | None = None

    def lists(self, login: str) -> bool:
        return match_pattern_list(login, self.principals)

    def allows(self, namespace: str) -> bool:
        return self.namespaces is None or match_pattern_list(namespace, self.namespaces)

    def valid_at(self, when: datetime) -> bool:
        if self.valid_after is not None and when < self.valid_after:
            return False
        return not (self.valid_before is not None and when > self.valid_before)


def _parse_line(number: int, text: str) -> SignerEntry:
    principals, rest = _split_token(text)
    if principals.startswith('"') and principals.endswith('"') and len(principals) >= 2:
        principals = principals[1:-1]
    if not principals or not rest:
        raise ValueError(_("expected: login[,login...] [options] keytype base64-key"))
    options: dict[str, str | bool] = {}
    parts = rest.split(None, 2)
    if parts[0] not in KEY_TYPES:
        opts, rest = _split_token(rest)
        options = _parse_options(opts)
        parts = rest.split(None, 2)
        if not parts:
            raise ValueError(_("the key is missing after the options"))
    if parts[0] not in KEY_TYPES:
        raise ValueError(
            _("unknown key type {value!r} (expected one of {value2})").format(
                value=parts[0], value2=", ".join(sorted(KEY_TYPES))
            )
        )
    if len(parts) < 2:
        raise ValueError(_("the {value} key's base64 data is missing").format(value=parts[0]))
    key = PublicKey.from_parts(parts[0], parts[1], parts[2] if len(parts) > 2 else "")

    def when(name: str) -> datetime | None:
        value = options.get(name)
        return _parse_time(value) if isinstance(value, str) else None

    namespaces = options.get("namespaces")
    return SignerEntry(
        number,
        principals,
        key,
        namespaces=namespaces if isinstance(namespaces, str) else None,
        cert_authority=bool(options.get("cert-authority")),
        valid_after=when("valid-after"),
        valid_before=when("valid-before"),
    )


@dataclass(frozen=True)
class AllowedSigners:
    """An OpenSSH allowed-signers file, parsed. ``keys_for(login)`` is what a login may sign with."""

    path: Path
    entries: tuple[SignerEntry, ...]

    @property
    def name(self) -> str:
        return self.path.name

    @classmethod
    def load(cls, path: Path | str) -> AllowedSigners:
        """Read the file (a regular file only: never a FIFO or a device) and parse it."""
        path = Path(path)
        with open_regular(path, "signers") as handle:
            try:
                text = handle.read().decode("utf-8")
            except UnicodeDecodeError:
                raise InputError(path, _("the signers file is not UTF-8 text")) from None
            except OSError as exc:
                raise InputError(
                    path, _("cannot read the signers file ({exc_strerror})").format(exc_strerror=exc.strerror)
                ) from None
        return cls.parse(text, path)

    @classmethod
    def parse(cls, text: str, path: Path | str = "signers") -> AllowedSigners:
        entries = []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip(" \t\r")
            if not line or line.startswith("#"):
                continue
            try:
                entries.append(_parse_line(number, line))
            except ValueError as exc:
                raise InputError(
                    path, _("not an allowed-signers line: {exc}").format(exc=exc), where=f"line {number}"
                ) from None
        return cls(Path(path), tuple(entries))

    def keys_for(self, login: str, *, namespace: str = NAMESPACE, at: datetime | None = None) -> list[PublicKey]:
        """The keys listed for ``login`` that may sign in ``namespace`` at ``at`` (default: now).
        cert-authority lines are not signing keys and are left out."""
        when = at or datetime.now(UTC)
        keys: list[PublicKey] = []
        for entry in self.entries:
            if (
                entry.lists(login)
                and not entry.cert_authority
                and entry.allows(namespace)
                and entry.valid_at(when)
                and entry.key not in keys
            ):
                keys.append(entry.key)
        return keys

    def lists(self, login: str, key: PublicKey, *, namespace: str = NAMESPACE, at: datetime | None = None) -> bool:
        return key in self.keys_for(login, namespace=namespace, at=at)

    def principals_of(self, key: PublicKey) -> list[str]:
        """The principal fields of every line listing ``key`` (for saying whose key it is)."""
        return [e.principals for e in self.entries if e.key == key and not e.cert_authority]


def _signers(signers: AllowedSigners | Path | str) -> AllowedSigners:
    return signers if isinstance(signers, AllowedSigners) else AllowedSigners.load(signers)


# -- finding the key the running account signs with ----------------------------------------


@dataclass(frozen=True)
class SigningKey:
    """The key an account signs with: in its agent (``agent`` is the socket) or a key file."""

    login: str
    public: PublicKey
    source: str  # "agent" or "file"
    path: Path | None = None  # the private key file, for source "file"
    agent: str | None = None  # the agent socket, for source "agent"
    signers: Path | None = None

    @property
    def fingerprint(self) -> str:
        return self.public.fingerprint

    def describe(self) -> str:
        where = _("in the SSH agent") if self.source == "agent" else _("in {path}").format(path=self.path)
        return _("key {fingerprint} ({type}) {where}").format(
            fingerprint=self.fingerprint, type=self.public.type, where=where
        )


def home_of_process() -> Path:
    """The home directory of the process's effective uid (never ``$HOME``)."""
    return Path(pwd.getpwuid(os.geteuid()).pw_dir)


def _ssh_keygen() -> str:
    found = shutil.which("ssh-keygen")
    if found is None:
        raise SigningUnavailable(
            _(
                "ssh-keygen (OpenSSH) is not installed: it is needed to sign and check the journal (Debian/Ubuntu: `apt install openssh-client`)"
            )
        )
    return found


def _env(environ: Mapping[str, str] | None, agent: str | None) -> dict[str, str]:
    env = dict(os.environ if environ is None else environ)
    env.pop("SSH_AUTH_SOCK", None)
    if agent:
        env["SSH_AUTH_SOCK"] = agent
    env["SSH_ASKPASS_REQUIRE"] = "never"  # never ask for a passphrase by a helper program
    env.pop("DISPLAY", None)
    env["LC_ALL"] = "C"
    return env


def agent_keys(socket: str, *, environ: Mapping[str, str] | None = None) -> tuple[list[PublicKey], str | None]:
    """The public keys the agent at ``socket`` holds (``ssh-add -L``), and a problem if it
    could not be asked (unreachable, not answering)."""
    ssh_add = shutil.which("ssh-add")
    if ssh_add is None:
        return [], _("ssh-add is not installed")
    try:
        r = subprocess.run(
            [ssh_add, "-L"],
            env=_env(environ, socket),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=AGENT_TIMEOUT,
            start_new_session=True,
        )
    except subprocess.TimeoutExpired:
        return [], _("the SSH agent at {socket} did not answer within {AGENT_TIMEOUT:.0f} s").format(
            socket=socket, AGENT_TIMEOUT=AGENT_TIMEOUT
        )
    if r.returncode == 1:
        return [], None  # "The agent has no identities."
    if r.returncode != 0:
        why = (r.stderr.strip().splitlines() or [_("no answer")])[-1]
        return [], _("cannot reach the SSH agent at {socket} ({why})").format(socket=socket, why=why)
    keys = []
    for line in r.stdout.splitlines():
        try:
            key = PublicKey.parse(line)
        except ValueError:
            continue
        if not key.is_certificate and key not in keys:
            keys.append(key)
    return keys, None


@dataclass(frozen=True)
class KeyFile:
    """What a private key file says without its passphrase: its public key, whether it is encrypted."""

    path: Path
    public: PublicKey | None
    encrypted: bool
    problem: str | None = None


def read_key_file(path: Path) -> KeyFile:
    """Read an OpenSSH private key's unencrypted header (openssh-key-v1: cipher, public key);
    the public key falls back to ``path.pub``. Never asks for a passphrase."""
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        return KeyFile(
            path, None, False, _("cannot read {path} ({exc_strerror})").format(path=path, exc_strerror=exc.strerror)
        )
    public: PublicKey | None = None
    encrypted: bool | None = None
    begin, end = "-----BEGIN OPENSSH PRIVATE KEY-----", "-----END OPENSSH PRIVATE KEY-----"
    if begin in text and end in text:
        try:
            raw = base64.b64decode("".join(text.split(begin, 1)[1].split(end, 1)[0].split()), validate=True)
            magic = b"openssh-key-v1\0"
            if not raw.startswith(magic):
                raise ValueError("bad magic")
            fields = _strings(raw, len(magic))
            cipher, kdf, kdfopts = next(fields), next(fields), next(fields)
            offset = len(magic) + 3 * 4 + len(cipher) + len(kdf) + len(kdfopts) + 4  # then uint32 nkeys
            encrypted = cipher != b"none"
            public = PublicKey.from_blob(_first_string(raw[offset:]))
        except (binascii.Error, ValueError, StopIteration, UnicodeDecodeError):
            return KeyFile(path, None, False, _("{path} is not a readable OpenSSH private key").format(path=path))
    else:
        encrypted = "ENCRYPTED" in text
    pub = Path(f"{path}.pub")
    if pub.exists():
        try:
            from_pub = PublicKey.parse(pub.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            from_pub = None
        if public is None:
            public = from_pub
        elif from_pub is not None and from_pub != public:
            return KeyFile(
                path, public, bool(encrypted), _("{pub} does not belong to {path}").format(pub=pub, path=path)
            )
        if public is not None and from_pub is not None:  # (then from_pub is the same key)
            public = PublicKey(public.type, public.blob, from_pub.comment)
    if public is None:
        return KeyFile(
            path,
            None,
            bool(encrypted),
            _("{path} has no readable public key ({pub} is missing)").format(path=path, pub=pub),
        )
    return KeyFile(path, public, bool(encrypted))


def find_signing_key(
    login: str,
    signers: AllowedSigners | Path | str,
    *,
    home: Path | None = None,
    environ: Mapping[str, str] | None = None,
    namespace: str = NAMESPACE,
) -> SigningKey:
    """The key ``login`` (the running account) signs with, or ``Refused`` (exit 3) saying what
    to do. First a key in the SSH agent (``SSH_AUTH_SOCK`` of ``environ``, default the process
    environment) listed for ``login``; else ``~/.ssh/id_ed25519`` (``home`` defaults to the home
    of the process's effective uid) when its public key is listed and it has no passphrase."""
    signers = _signers(signers)
    listed = signers.keys_for(login, namespace=namespace)
    env = os.environ if environ is None else environ
    unlisted: list[str] = []
    notes: list[str] = []
    first_unlisted: PublicKey | None = None

    def note_unlisted(key: PublicKey, where: str) -> None:
        nonlocal first_unlisted
        owners = [one_line(p) for p in signers.principals_of(key)]
        whose = _(", listed for {value}").format(value=" and ".join(owners)) if owners else ""
        unlisted.append(f"{key.fingerprint} ({where}{whose})")
        if first_unlisted is None and not owners:
            first_unlisted = key

    socket = env.get("SSH_AUTH_SOCK") or None
    if socket:
        keys, problem = agent_keys(socket, environ=environ)
        for key in keys:
            if key in listed:
                return SigningKey(login, key, "agent", agent=socket, signers=signers.path)
        for key in keys:
            note_unlisted(key, _("in the SSH agent"))
        if problem:
            notes.append(problem)
        elif not keys:
            notes.append(_("the SSH agent holds no keys"))
    else:
        notes.append(_("no SSH agent (SSH_AUTH_SOCK is not set)"))

    folder = (home if home is not None else home_of_process()) / ".ssh"
    for name in KEY_FILES:
        path = folder / name
        if not path.exists():
            notes.append(f"no {path}")
            continue
        kf = read_key_file(path)
        if kf.problem:
            notes.append(kf.problem)
            continue
        assert kf.public is not None
        if kf.public not in listed:
            note_unlisted(kf.public, str(path))
            continue
        if kf.encrypted:
            raise Refused(
                _(
                    "{path} (key {kf_public_fingerprint}, listed for {login} in {signers_name}) is protected by a passphrase and panel-tui never asks for one: load it into your SSH agent (`eval $(ssh-agent)` then `ssh-add {path}`), or connect with `ssh -A` from a machine whose agent holds a listed key"
                ).format(path=path, kf_public_fingerprint=kf.public.fingerprint, login=login, signers_name=signers.name)
            )
        return SigningKey(login, kf.public, "file", path=path, signers=signers.path)

    if socket and listed and not os.path.exists(socket):
        # The agent forwarded by the connection this process started from: that connection
        # ended (a dropped ssh, then `tmux attach` from a new one), its socket with it.
        raise Refused(
            _(
                "the SSH agent this program started with is gone ({socket} no longer exists: the connection that forwarded it ended, e.g. before a `tmux attach` from a new one): quit and start panel-tui again from your current `ssh -A` connection; {signers_name} lists your key {value}"
            ).format(socket=socket, signers_name=signers.name, value=", ".join(k.fingerprint for k in listed))
        )
    example = (
        first_unlisted.line
        if first_unlisted is not None
        else _("<your public key, e.g. the line in ~/.ssh/id_ed25519.pub>")
    )
    lines = [
        _(
            'no usable SSH key listed for {login} in {signers_name} to sign with: add the line `{login} namespaces="{namespace}" {example}` to {signers_path} (whoever keeps the signers file), or use a listed key: load it into your SSH agent (`ssh-add`), connect with `ssh -A` from a machine whose agent holds it, or put it in {value}'
        ).format(
            login=login,
            signers_name=signers.name,
            namespace=namespace,
            example=example,
            signers_path=signers.path,
            value=folder / KEY_FILES[0],
        )
    ]
    if unlisted:
        lines.append(_("keys found but not listed for {login}: {value}").format(login=login, value="; ".join(unlisted)))
    if notes:
        lines.append("; ".join(notes))
    if not listed:
        lines.append(_("{signers_name} lists no key at all for {login}").format(signers_name=signers.name, login=login))
    else:
        lines.append(
            _("{signers_name} lists for {login} {value}, which is neither in the SSH agent nor in the key file").format(
                signers_name=signers.name, login=login, value=", ".join(k.fingerprint for k in listed)
            )
        )
    raise Refused(". ".join(lines))


def signing_status(
    login: str,
    signers: AllowedSigners | Path | str,
    *,
    home: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """One sentence for ``validate``: whether ``login`` can sign, with which key, or what to do.
    It starts with "<login> can sign" or "<login> cannot sign" (in English)."""
    return signing_check(login, signers, home=home, environ=environ)[1]


def signing_check(
    login: str,
    signers: AllowedSigners | Path | str,
    *,
    home: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[bool, str]:
    """Whether ``login`` can sign, and ``signing_status``'s sentence."""
    signers = _signers(signers)
    try:
        key = find_signing_key(login, signers, home=home, environ=environ)
    except Refused as exc:
        return False, _("{login} cannot sign events: {why}").format(login=login, why=exc)
    return True, _("{login} can sign events: {key}, listed in {signers}").format(
        login=login, key=key.describe(), signers=signers.name
    )


# -- signing and verifying --------------------------------------------------------------------


class _Private:
    """A private (0700) temporary directory, removed afterwards."""

    def __enter__(self) -> Path:
        self.path = Path(tempfile.mkdtemp(prefix="panel-tui-sig-"))
        os.chmod(self.path, 0o700)
        return self.path

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _last_line(text: str, default: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else default


def sign(data: bytes, key: SigningKey, *, namespace: str = NAMESPACE, environ: Mapping[str, str] | None = None) -> str:
    """The armored SSH SIGNATURE of ``data`` by ``key`` (``ssh-keygen -Y sign -n panel-tui``).
    ``Refused`` (exit 3) when the key cannot sign (agent refused, key gone, timeout)."""
    keygen = _ssh_keygen()
    with _Private() as tmp:
        message = tmp / "event"
        message.write_bytes(data)
        if key.source == "agent":
            pub = tmp / "key.pub"
            pub.write_text(key.public.line + "\n", encoding="ascii")
            args = [keygen, "-Y", "sign", "-n", namespace, "-f", str(pub), "-U", str(message)]
            env = _env(environ, key.agent)
        else:
            assert key.path is not None
            args = [keygen, "-Y", "sign", "-n", namespace, "-f", str(key.path), str(message)]
            env = _env(environ, None)
        try:
            r = subprocess.run(
                args,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=SIGN_TIMEOUT,
                start_new_session=True,
            )
        except subprocess.TimeoutExpired:
            raise Refused(
                _(
                    "signing with {value} took longer than {SIGN_TIMEOUT:.0f} s (a hardware key waiting for a touch?); nothing was recorded"
                ).format(value=key.describe(), SIGN_TIMEOUT=SIGN_TIMEOUT)
            ) from None
        sigfile = Path(f"{message}.sig")
        if r.returncode != 0 or not sigfile.exists():
            why = one_line(
                _last_line(r.stderr, _("ssh-keygen exit status {r_returncode}").format(r_returncode=r.returncode))
            )
            raise Refused(
                _("{key_login} could not sign with {value} ({why}); nothing was recorded").format(
                    key_login=key.login, value=key.describe(), why=why
                )
            )
        armored = sigfile.read_text(encoding="ascii")
    made = read_signature(armored)
    if made.key != key.public:  # pragma: no cover - ssh-keygen signs with the key it was given
        raise Refused(
            _("ssh-keygen signed with {made_key_fingerprint}, not {key_fingerprint}; nothing was recorded").format(
                made_key_fingerprint=made.key.fingerprint, key_fingerprint=key.fingerprint
            )
        )
    return armored


def _verify_time(at: datetime) -> str:
    if at.tzinfo is None:
        at = at.astimezone()
    return at.astimezone(UTC).strftime("%Y%m%d%H%M%SZ")


def _precheck(
    signature: str | None, login: str, signers: AllowedSigners, namespace: str, at: datetime | None
) -> tuple[Signature | None, str | None]:
    """What is wrong with the signature without running ssh-keygen, or None."""
    if signature is None or not signature.strip():
        return None, _("the event carries no signature")
    try:
        sig = read_signature(signature)
    except ValueError as exc:
        return None, _("the signature is unreadable: {exc}").format(exc=exc)
    if sig.namespace != namespace:
        return sig, _("the signature is for the namespace '{value}', not '{namespace}'").format(
            value=one_line(sig.namespace), namespace=namespace
        )
    if not sig.key.is_certificate and not signers.lists(login, sig.key, namespace=namespace, at=at):
        owners = [one_line(p) for p in signers.principals_of(sig.key)]
        whose = _(" (it is listed for {value})").format(value=" and ".join(owners)) if owners else ""
        return sig, _(
            "it was signed by key {sig_key_fingerprint}, which {signers_name} does not list for {login}{whose}"
        ).format(sig_key_fingerprint=sig.key.fingerprint, signers_name=signers.name, login=login, whose=whose)
    return sig, None


def _run_verify(
    keygen: str,
    tmp: Path,
    name: str,
    data: bytes,
    signature: str,
    login: str,
    signers_path: Path,
    namespace: str,
    at: datetime | None,
) -> tuple[bool, str]:
    sigfile = tmp / f"{name}.sig"
    sigfile.write_text(signature if signature.endswith("\n") else signature + "\n", encoding="ascii")
    args = [keygen, "-Y", "verify", "-f", str(signers_path), "-I", login, "-n", namespace, "-s", str(sigfile)]
    if at is not None:
        args[3:3] = ["-O", f"verify-time={_verify_time(at)}"]
    try:
        r = subprocess.run(
            args, input=data, env=_env(None, None), capture_output=True, timeout=VERIFY_TIMEOUT, start_new_session=True
        )
    except subprocess.TimeoutExpired:
        return False, _("ssh-keygen did not answer within {VERIFY_TIMEOUT:.0f} s").format(VERIFY_TIMEOUT=VERIFY_TIMEOUT)
    finally:
        sigfile.unlink(missing_ok=True)
    if r.returncode == 0:
        return True, one_line(_last_line(r.stdout.decode("utf-8", "replace"), "good signature"))
    detail = one_line(
        _last_line(
            r.stderr.decode("utf-8", "replace"),
            _("ssh-keygen exit status {r_returncode}").format(r_returncode=r.returncode),
        )
    )
    if "incorrect signature" in detail:
        return False, _("the signature does not match the event's bytes: the event was changed after it was signed")
    return False, _("ssh-keygen -Y verify rejects it ({detail})").format(detail=detail)


def verify(
    data: bytes,
    signature: str | None,
    login: str,
    signers_path: Path | str,
    *,
    at: datetime | None = None,
    namespace: str = NAMESPACE,
    signers: AllowedSigners | None = None,
) -> tuple[bool, str]:
    """Whether ``signature`` is ``login``'s signature of ``data`` by a key the signers file lists
    for ``login`` (``ssh-keygen -Y verify -f signers -I login -n panel-tui``), and why not.

    ``at``: the time the key must have been valid (the file's valid-after/valid-before);
    default now, as ssh-keygen does. ``signers``: the parsed file, to skip re-reading it.
    Missing, unreadable, wrong-namespace and unlisted-key signatures are named without
    running ssh-keygen; everything else is ssh-keygen's verdict."""
    signers_path = Path(signers_path)
    signers = signers if signers is not None else AllowedSigners.load(signers_path)
    _sig, problem = _precheck(signature, login, signers, namespace, at)
    if problem:
        return False, problem
    assert signature is not None
    keygen = _ssh_keygen()
    with _Private() as tmp:
        return _run_verify(keygen, tmp, "event", data, signature, login, signers_path, namespace, at)


@dataclass(frozen=True)
class ToVerify:
    """One signed item for ``verify_many``: the signed bytes, the signature, its author."""

    data: bytes
    signature: str | None
    login: str
    at: datetime | None = None


def verify_many(
    items: Iterable[ToVerify], signers_path: Path | str, *, namespace: str = NAMESPACE, workers: int | None = None
) -> list[tuple[bool, str]]:
    """``verify`` for each item, in order, the signers file read once and ssh-keygen run on a
    thread pool (``workers``, default the CPU count, at most 8)."""
    items = list(items)
    signers_path = Path(signers_path)
    signers = AllowedSigners.load(signers_path)
    results: list[tuple[bool, str] | None] = [None] * len(items)
    todo = []
    for i, item in enumerate(items):
        _sig, problem = _precheck(item.signature, item.login, signers, namespace, item.at)
        if problem:
            results[i] = (False, problem)
        else:
            todo.append(i)
    if todo:
        keygen = _ssh_keygen()
        with _Private() as tmp:

            def one(i: int) -> tuple[bool, str]:
                it = items[i]
                assert it.signature is not None
                return _run_verify(
                    keygen, tmp, f"event-{i}", it.data, it.signature, it.login, signers_path, namespace, it.at
                )

            count = workers or min(8, os.cpu_count() or 1)
            if count <= 1 or len(todo) == 1:
                for i in todo:
                    results[i] = one(i)
            else:
                with ThreadPoolExecutor(max_workers=count) as pool:
                    for i, result in zip(todo, pool.map(one, todo), strict=False):
                        results[i] = result
    return [r for r in results if r is not None]
