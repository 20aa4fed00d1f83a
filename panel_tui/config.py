"""The contest: config.toml parsed into typed, frozen objects (the README's "The contest files").

Every rule is checked here, so later code can trust a ``Config``. Errors name the file and
the key (``[scoring] method``); unknown keys are refused, never ignored, because a
misspelt key silently falling back to a default would change a panel's results.
"""

from __future__ import annotations

import errno
import os
import stat
import tomllib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from panel_tui.errors import InputError, shown_value
from panel_tui.i18n import LANGUAGES, N_, _, translation_of
from panel_tui.text import identifier_problem

METHODS = ("mean", "median", "trimmed_mean")
DEMO_CONFIG = Path(__file__).parent / "demo" / "config.toml"


@dataclass(frozen=True)
class GradeBand:
    grade: int
    min: float


@dataclass(frozen=True)
class Category:
    id: str
    label: str
    indicator_set: str
    threshold: float
    tie_break: tuple[str, ...] = ()
    max_certified: int = 0
    grades: tuple[GradeBand, ...] = ()  # highest ``min`` first
    translations: tuple[tuple[str, str], ...] = ()  # (language, label): config.toml's ``label_<language>``
    written_label: str | None = None  # ``label`` as config.toml has it, when ``label`` is a translation

    @property
    def label_as_written(self) -> str:
        """The label as config.toml's ``label`` gives it, whatever language it is shown in (what
        JSON and the lock record, so that they are the same in every language)."""
        return self.written_label or self.label


@dataclass(frozen=True)
class Scoring:
    method: str = "trimmed_mean"
    trim_min_evaluators: int = 5
    decimals: int = 2
    review_margin: float = 1.0


@dataclass(frozen=True)
class Roles:
    secretary: tuple[str, ...] = ()
    chair: tuple[str, ...] = ()
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class LockPolicy:
    require_chair_confirmation: bool = True


@dataclass(frozen=True)
class Contest:
    id: str
    name: str
    candidates: Path
    scores: Path
    indicators: Path
    conflicts: Path | None = None  # evaluator_id, candidate_id: scores left out of consolidation
    signers: Path | None = None  # OpenSSH allowed-signers file: every journal event is signed
    language: str | None = None  # "ko" or "en": the console's, the command line's and the exports' words
    translations: tuple[tuple[str, str], ...] = ()  # (language, name): ``name_<language>``
    timezone: str | None = None  # an IANA name ("Asia/Seoul"): the time zone people read times in; else UTC

    def time(self, at: str, *, date: bool = True, seconds: bool = False) -> str:
        """A journal time (UTC, ISO 8601: what the journal keeps) as the people in the room read it,
        in the contest's time zone and naming it: "2022-09-14 19:41 KST" (else "... UTC")."""
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            return at
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        local = moment.astimezone(ZoneInfo(self.timezone) if self.timezone else UTC)
        shown = local.strftime(("%Y-%m-%d " if date else "") + ("%H:%M:%S" if seconds else "%H:%M"))
        return f"{shown} {local.tzname() or ''}".rstrip()


@dataclass(frozen=True)
class Config:
    """A whole contest as config.toml describes it; paths are absolute."""

    path: Path
    contest: Contest
    scoring: Scoring
    categories: tuple[Category, ...]
    roles: Roles = field(default_factory=Roles)
    lock: LockPolicy = field(default_factory=LockPolicy)
    # Headings of candidates.csv's further columns in the candidate's detail: (column, language
    # or "" for ``[columns]``'s own key, heading).
    headings: tuple[tuple[str, str, str], ...] = ()
    shown_in: str | None = None  # the language ``in_language`` chose for the contest's own words

    def in_language(self, language: str) -> Config:
        """This contest with its own words (the contest's name, the categories' labels, and
        through ``load_contest`` the candidates' names, the indicators' and areas' labels and
        the detail's further columns) in ``language`` wherever the files give them in it
        (``name_ko``, ``label_ko``, ...), else as written. What JSON and the lock record stays
        as written: the same list, the same digest, in every language."""

        def shown(category: Category) -> Category:
            label = dict(category.translations).get(language)
            return replace(category, label=label, written_label=category.label) if label else category

        name = dict(self.contest.translations).get(language)
        contest = replace(self.contest, name=name) if name else self.contest
        categories = tuple(shown(c) for c in self.categories)
        return replace(self, contest=contest, categories=categories, shown_in=language)

    @property
    def labels(self) -> dict[str, str]:
        """Each category's label (in the language shown), by its id."""
        return {c.id: c.label for c in self.categories}

    def heading(self, column: str) -> str:
        """A further column of candidates.csv as the detail heads it: ``[columns]`` in the
        language shown, else as ``[columns]`` writes it, else the column's own name."""
        found = {lang: text for col, lang, text in self.headings if col == column}
        return found.get(self.shown_in or "", found.get("", column))

    def files(self) -> dict[str, Path]:
        """Every file the contest names, by role: the one list the lock's digests, the
        console's file watch and ``verify`` all use."""
        found = {
            "config": self.path,
            "candidates": self.contest.candidates,
            "indicators": self.contest.indicators,
            "scores": self.contest.scores,
        }
        if self.contest.conflicts is not None:
            found["conflicts"] = self.contest.conflicts
        if self.contest.signers is not None:
            found["signers"] = self.contest.signers
        return found

    def category(self, category_id: str) -> Category:
        for category in self.categories:
            if category.id == category_id:
                return category
        raise KeyError(category_id)


_KINDS = (
    (stat.S_ISDIR, N_("a directory")),
    (stat.S_ISFIFO, N_("a named pipe (FIFO)")),
    (stat.S_ISCHR, N_("a character device")),
    (stat.S_ISBLK, N_("a block device")),
    (stat.S_ISSOCK, N_("a socket")),
)
# A file's role ("scores", "config": ``open_regular``'s ``what``) in the panel's language.
FILE_WORDS = {
    "config": N_("config"),
    "candidates": N_("candidates"),
    "indicators": N_("indicators"),
    "scores": N_("scores"),
    "conflicts": N_("conflicts"),
    "signers": N_("signers"),
    "contest": N_("contest"),
    "CSV": N_("CSV"),
}


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return _(name)
    return _("not a regular file")


def file_words(what: str) -> str:
    """A file's role as people read it: "scores" (Korean: 점수)."""
    return _(FILE_WORDS[what]) if what in FILE_WORDS else what


def open_regular(path: Path, what: str) -> BinaryIO:
    """Open ``path`` for reading, refusing (``InputError`` naming it) anything but a regular
    file: a directory, a FIFO (opening one would block), a device (/dev/zero never ends), a
    socket, a dangling symbolic link or a loop of them. ``os.stat`` decides before anything
    is opened; the file is then opened without blocking and checked again by its descriptor,
    so a file swapped for a FIFO in between is refused too, never read. ``what`` names the
    file's role ("scores", "config")."""
    role = file_words(what)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise InputError(
                path,
                _("is a dangling symbolic link (to '{target}'), not a {what} file").format(
                    target=shown_value(os.readlink(path)), what=role
                ),
            ) from None
        raise InputError(path, _("{what} file not found").format(what=role)) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(path, _("is a loop of symbolic links, not a {what} file").format(what=role)) from None
        if exc.errno == errno.ENOTDIR:
            raise InputError(
                path, _("{what} file not found (a part of its path is not a folder)").format(what=role)
            ) from None
        raise InputError(path, _("cannot read the {what} file ({why})").format(what=role, why=exc.strerror)) from None
    except ValueError:  # an embedded NUL in the name
        raise InputError(path, _("not a valid file name for the {what} file").format(what=role)) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(path, _("is a directory, not a {what} file").format(what=role))
    if not stat.S_ISREG(st.st_mode):
        raise InputError(
            path, _("is {kind}, not a regular file: only regular files are read").format(kind=_kind(st.st_mode))
        )
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except PermissionError:
        raise InputError(path, _("cannot read the {what} file: permission denied").format(what=role)) from None
    except OSError as exc:
        raise InputError(path, _("cannot read the {what} file ({why})").format(what=role, why=exc.strerror)) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(
                path,
                _(
                    "changed while being opened: it is now {kind}, not a regular file: only regular files are read"
                ).format(kind=_kind(st.st_mode)),
            )
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def find_config(explicit: str | Path | None) -> Path:
    """The config to use: the one given, else ./config.toml, else the bundled 2022 demo.

    A ./config.toml that is there in any form (a directory, a FIFO, a symbolic link, even a
    dangling one) is the one meant: ``load_config`` then says what is wrong with it, never a
    silent fall back to the demo."""
    if explicit is not None:
        return Path(explicit)
    local = Path.cwd() / "config.toml"
    return local if os.path.lexists(local) else DEMO_CONFIG


def configured_language(path: str | Path) -> str | None:
    """The ``[contest] language`` of a config, read before anything else so that even the
    config's own errors are in it; None when it has none or cannot be read (``load_config``
    then says what is wrong, in the language of the locale)."""
    try:
        with open_regular(Path(path), "config") as handle:
            raw = tomllib.loads(handle.read().decode("utf-8-sig"))
    except (InputError, OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    contest = raw.get("contest")
    language = contest.get("language") if isinstance(contest, dict) else None
    return language if language in LANGUAGES else None


def load_config(path: str | Path) -> Config:
    """Read and check a config.toml; raise ``InputError`` naming the file and key on any defect."""
    path = Path(path)
    with open_regular(path, "config") as handle:
        try:
            raw_bytes = handle.read()
        except OSError as exc:
            raise InputError(
                path, _("cannot read the {what} file ({why})").format(what=file_words("config"), why=exc.strerror)
            ) from None
    if not raw_bytes.strip():
        raise InputError(path, _("the config file is empty"))
    try:
        text = raw_bytes.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(path, _("the config file is not UTF-8 text")) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, _("invalid TOML: {why}").format(why=exc)) from None
    return _Reader(path).config(raw)


# The [roles] keys in words (a login listed under two of them).
ROLE_KEYS = {"secretary": N_("secretary"), "chair": N_("chair"), "members": N_("members")}


class _Reader:
    """Turns the parsed TOML into a ``Config``; one method per table, each naming its keys."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, message: str) -> InputError:
        return InputError(self.path, message, where=f"key {key}")

    def table(self, raw: Any, name: str, allowed: set[str], required: set[str]) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self.fail(name, _("must be a table"))
        unknown = sorted(set(raw) - allowed)
        if unknown:
            raise self.fail(
                f"{name} {unknown[0]}", _("unknown key (allowed: {keys})").format(keys=", ".join(sorted(allowed)))
            )
        missing = sorted(required - set(raw))
        if missing:
            raise self.fail(f"{name} {missing[0]}", _("required key is missing"))
        return raw

    def text(self, raw: dict[str, Any], table: str, key: str, default: str | None = None) -> str:
        value = raw.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{table} {key}", _("must be a non-empty string, not {value}").format(value=repr(value)))
        return value

    def number(self, raw: dict[str, Any], table: str, key: str, default: float, lo: float, hi: float) -> float:
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise self.fail(f"{table} {key}", _("must be a number, not {value}").format(value=repr(value)))
        if not lo <= value <= hi:
            raise self.fail(
                f"{table} {key}",
                _("must be between {lo} and {hi}, not {value}").format(lo=f"{lo:g}", hi=f"{hi:g}", value=f"{value:g}"),
            )
        return float(value)

    def integer(self, raw: dict[str, Any], table: str, key: str, default: int, lo: int, hi: int) -> int:
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(f"{table} {key}", _("must be a whole number, not {value}").format(value=repr(value)))
        if not lo <= value <= hi:
            raise self.fail(
                f"{table} {key}", _("must be between {lo} and {hi}, not {value}").format(lo=lo, hi=hi, value=value)
            )
        return value

    def names(self, raw: dict[str, Any], table: str, key: str, *, ids: bool = False) -> tuple[str, ...]:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(f"{table} {key}", _("must be a list of non-empty strings"))
        if ids:
            for v in value:
                self.check_id(v, table, key)
        if len(set(value)) != len(value):
            raise self.fail(f"{table} {key}", _("lists the same name twice"))
        return tuple(value)

    def identifier(self, raw: dict[str, Any], table: str, key: str) -> str:
        return self.check_id(self.text(raw, table, key), table, key)

    def check_id(self, value: str, table: str, key: str) -> str:
        """An id the data files must match exactly: no hidden characters, no stray spaces."""
        problem = identifier_problem(value)
        if problem:
            raise self.fail(
                f"{table} {key}", _("the id '{id}' has {problem}").format(id=shown_value(value), problem=problem)
            )
        return value

    def path_of(self, raw: dict[str, Any], key: str) -> Path:
        # Absolute, but symbolic links kept as named: a link to a device, a loop or a
        # dangling link is then refused under the name the config gives it.
        return Path(os.path.abspath(self.path.parent / self.text(raw, "[contest]", key)))

    def config(self, raw: dict[str, Any]) -> Config:
        self.table(
            raw,
            _("the top level"),
            {"contest", "scoring", "categories", "roles", "lock", "columns"},
            {"contest", "categories"},
        )
        contest_raw = self.table(
            raw["contest"],
            "[contest]",
            {"id", "name", "candidates", "scores", "indicators", "conflicts", "signers", "language", "timezone"}
            | {f"name_{lang}" for lang in LANGUAGES},
            {"id", "name", "candidates", "scores", "indicators"},
        )
        # The id names files (sessions/<id>.sqlite, exports): nothing hidden in it.
        contest_id = self.check_id(self.text(contest_raw, "[contest]", "id"), "[contest]", "id")
        if any(c in contest_id for c in "/\\") or contest_id.startswith("."):
            raise self.fail(
                "[contest] id",
                _("must not contain a path separator or start with '.', not {id}").format(id=repr(contest_id)),
            )
        language = self.text(contest_raw, "[contest]", "language") if "language" in contest_raw else None
        if language is not None and language not in LANGUAGES:
            raise self.fail(
                "[contest] language",
                _("must be one of: {choices}, not {value}").format(choices=", ".join(LANGUAGES), value=repr(language)),
            )
        contest = Contest(
            id=contest_id,
            name=self.text(contest_raw, "[contest]", "name"),
            candidates=self.path_of(contest_raw, "candidates"),
            scores=self.path_of(contest_raw, "scores"),
            indicators=self.path_of(contest_raw, "indicators"),
            conflicts=self.path_of(contest_raw, "conflicts") if "conflicts" in contest_raw else None,
            signers=self.path_of(contest_raw, "signers") if "signers" in contest_raw else None,
            language=language,
            translations=self.translations(contest_raw, "[contest]", "name"),
            timezone=self.timezone(contest_raw),
        )
        return Config(
            path=Path(os.path.abspath(self.path)),
            contest=contest,
            scoring=self.scoring(raw.get("scoring", {})),
            categories=self.categories(raw["categories"]),
            roles=self.roles(raw.get("roles", {})),
            lock=self.lock(raw.get("lock", {})),
            headings=self.headings(raw.get("columns", {})),
        )

    def timezone(self, raw: dict[str, Any]) -> str | None:
        if "timezone" not in raw:
            return None
        name = self.text(raw, "[contest]", "timezone")
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail(
                "[contest] timezone",
                _("unknown time zone {name} (an IANA name such as Asia/Seoul)").format(name=repr(name)),
            ) from None
        return name

    def translations(self, raw: dict[str, Any], table: str, key: str) -> tuple[tuple[str, str], ...]:
        """``key_<language>`` (``name_ko``, ``label_en``): ``key`` in that language."""
        return tuple((lang, self.text(raw, table, f"{key}_{lang}")) for lang in LANGUAGES if f"{key}_{lang}" in raw)

    def headings(self, raw: Any) -> tuple[tuple[str, str, str], ...]:
        """``[columns]``: ``region = "Region"``, ``region_ko = "지역"``: the detail's heading of a
        further column of candidates.csv, as written and in each language."""
        t = "[columns]"
        if not isinstance(raw, dict):
            raise self.fail(t, _("must be a table"))
        found = []
        for key in raw:
            column, lang = translation_of(key)
            found.append((self.check_id(column, t, key), lang, self.text(raw, t, key)))
        return tuple(found)

    def scoring(self, raw: Any) -> Scoring:
        t = "[scoring]"
        raw = self.table(raw, t, {"method", "trim_min_evaluators", "decimals", "review_margin"}, set())
        method = self.text(raw, t, "method", Scoring.method)
        if method not in METHODS:
            raise self.fail(
                f"{t} method",
                _("unknown method {method} (expected one of: {methods})").format(
                    method=repr(method), methods=", ".join(METHODS)
                ),
            )
        return Scoring(
            method=method,
            # Dropping a highest and a lowest needs at least three scores to leave one.
            trim_min_evaluators=self.integer(raw, t, "trim_min_evaluators", Scoring.trim_min_evaluators, 3, 1000),
            decimals=self.integer(raw, t, "decimals", Scoring.decimals, 0, 6),
            review_margin=self.number(raw, t, "review_margin", Scoring.review_margin, 0.0, 100.0),
        )

    def categories(self, raw: Any) -> tuple[Category, ...]:
        if not isinstance(raw, list) or not raw:
            raise self.fail("[[categories]]", _("at least one [[categories]] table is required"))
        seen: set[str] = set()
        result = []
        for i, item in enumerate(raw, start=1):
            t = f"[[categories]] #{i}"
            item = self.table(
                item,
                t,
                {"id", "label", "indicator_set", "threshold", "tie_break", "max_certified", "grades"}
                | {f"label_{lang}" for lang in LANGUAGES},
                {"id", "label", "indicator_set", "threshold"},
            )
            cid = self.identifier(item, t, "id")
            if cid in seen:
                raise self.fail(f"{t} id", _("category id {id} is used twice").format(id=repr(cid)))
            seen.add(cid)
            t = f"[[categories]] '{shown_value(cid)}'"
            result.append(
                Category(
                    id=cid,
                    label=self.text(item, t, "label"),
                    indicator_set=self.identifier(item, t, "indicator_set"),
                    threshold=self.number(item, t, "threshold", 0.0, 0.0, 100.0),
                    tie_break=self.names(item, t, "tie_break", ids=True),
                    max_certified=self.integer(item, t, "max_certified", 0, 0, 10**9),
                    grades=self.grades(item.get("grades", []), t),
                    translations=self.translations(item, t, "label"),
                )
            )
        return tuple(result)

    def grades(self, raw: Any, t: str) -> tuple[GradeBand, ...]:
        key = f"{t} grades"
        if not isinstance(raw, list):
            raise self.fail(key, _("must be a list of { grade = N, min = P } tables"))
        bands = []
        for band in raw:
            band = self.table(band, key, {"grade", "min"}, {"grade", "min"})
            bands.append(
                GradeBand(
                    grade=self.integer(band, key, "grade", 0, 0, 10**6),
                    min=self.number(band, key, "min", 0.0, 0.0, 100.0),
                )
            )
        if len({b.grade for b in bands}) != len(bands):
            raise self.fail(key, _("the same grade appears twice"))
        if len({b.min for b in bands}) != len(bands):
            raise self.fail(key, _("two grades have the same min"))
        return tuple(sorted(bands, key=lambda b: b.min, reverse=True))

    def roles(self, raw: Any) -> Roles:
        t = "[roles]"
        raw = self.table(raw, t, {"secretary", "chair", "members"}, set())
        roles = Roles(
            secretary=self.names(raw, t, "secretary", ids=True),  # login names: nothing hidden
            chair=self.names(raw, t, "chair", ids=True),
            members=self.names(raw, t, "members", ids=True),
        )
        for a, b in (("secretary", "chair"), ("secretary", "members"), ("chair", "members")):
            both = set(getattr(roles, a)) & set(getattr(roles, b))
            if both:
                raise self.fail(
                    t,
                    _("{name} is listed as both {role} and {other}").format(
                        name=repr(sorted(both)[0]), role=_(ROLE_KEYS[a]), other=_(ROLE_KEYS[b])
                    ),
                )
        return roles

    def lock(self, raw: Any) -> LockPolicy:
        raw = self.table(raw, "[lock]", {"require_chair_confirmation"}, set())
        value = raw.get("require_chair_confirmation", True)
        if not isinstance(value, bool):
            raise self.fail(
                "[lock] require_chair_confirmation", _("must be true or false, not {value}").format(value=repr(value))
            )
        return LockPolicy(require_chair_confirmation=value)
