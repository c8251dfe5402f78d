"""The scoring rules (记分办法) as typed data, loaded and validated from scoring.toml.

Offices publish their rules as a table of publications, grades, bonuses and
targets, and change them from year to year. Keeping every number in
scoring.toml (documented in the file itself) lets one scoring core serve
Guangzhou, a county and a city without code changes; validating once at load
time turns a typo into an error that names the file and the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mailbot.core.errors import ScoringRulesError
from mailbot.core.mail.textnorm import fold
from mailbot.core.scoring.periods import Calendar, Period

Combine = Literal["sum", "max"]
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Grade:
    """A grade (档次) of a publication and its points, e.g. 标题 2."""

    name: str
    points: Decimal


@dataclass(frozen=True, slots=True)
class Publication:
    """A publication (刊物) or column (栏目) that adopts items, at an office level.

    Either `grades` is non-empty (the first is the default) or `points` holds
    the flat points. `commission_points`, when set, replaces the grade points
    of a commissioned (约稿) item adopted here.
    """

    name: str
    level: str
    points: Decimal = ZERO
    grades: tuple[Grade, ...] = ()
    commission_points: Decimal | None = None
    aliases: tuple[str, ...] = ()

    def grade(self, name: str | None) -> Grade | None:
        """The grade called `name` (any script or width), the default when None; None if unknown."""
        if not self.grades:
            return None
        if name is None or not name.strip():
            return self.grades[0]
        key = fold(name)
        return next((g for g in self.grades if fold(g.name) == key), None)


@dataclass(frozen=True, slots=True)
class BonusRule:
    """Bonuses for 批示 and 上级采用 on items adopted in some publications.

    `adopted_in` holds (publication, grade or None) pairs; empty means any
    adopted item. Values of one item under one rule combine by `combine`
    (`max`: 按最高加分值) and are capped at `cap`. Each (kind, level) counts
    once per item.
    """

    name: str
    adopted_in: tuple[tuple[str, str | None], ...] = ()
    instruct: tuple[tuple[str, Decimal], ...] = ()
    upper: tuple[tuple[str, Decimal], ...] = ()
    combine: Combine = "sum"
    cap: Decimal | None = None

    def value(self, kind: Literal["instruct", "upper"], level: str) -> Decimal | None:
        """This rule's points for a 批示 (`instruct`) or 上级采用 (`upper`) at `level`, or None."""
        table = self.instruct if kind == "instruct" else self.upper
        return next((pts for lvl, pts in table if lvl == level), None)

    def applies_to(self, adopted: set[tuple[str, str | None]], any_adoption: bool) -> bool:
        """Whether an item adopted in these (publication, grade) pairs (or adopted at all) qualifies."""
        if not self.adopted_in:
            return any_adoption
        return any(
            (pub, None) in self.adopted_in or (pub, grade) in self.adopted_in for pub, grade in adopted
        )


@dataclass(frozen=True, slots=True)
class SeriesRules:
    """Targets and dual-track credit of one series (序列)."""

    name: str
    year_target: Decimal | None = None
    quarter_target: Decimal | None = None
    month_min: int | None = None
    month_min_points: Decimal = ZERO
    month_min_points_year_cap: Decimal | None = None
    parent_credit: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class RuleSet:
    """One rule set, in force from `effective_from` until the next one."""

    name: str
    effective_from: date
    combine: Combine
    levels: tuple[str, ...]
    level_aliases: tuple[tuple[str, str], ...]
    publications: tuple[Publication, ...]
    default_publication: str | None
    bonuses: tuple[BonusRule, ...] = ()
    upper_points: tuple[tuple[str, Decimal], ...] = ()
    forward_points: tuple[tuple[str, Decimal], ...] = ()
    commission_bonus: Decimal = ZERO
    commission_bonus_by_level: tuple[tuple[str, Decimal], ...] = ()
    commission_bonus_on_time_only: bool = True
    penalties: tuple[tuple[str, Decimal], ...] = ()
    late_commission_penalty: str | None = None
    series: tuple[SeriesRules, ...] = ()
    _pubs: dict[str, Publication] = field(default_factory=dict, init=False, repr=False, compare=False)
    _levels: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for pub in self.publications:
            for name in (pub.name, *pub.aliases):
                self._pubs.setdefault(fold(name), pub)
        for level in self.levels:
            self._levels[fold(level)] = level
        for alias, level in self.level_aliases:
            self._levels.setdefault(fold(alias), level)

    def publication(self, name: str | None) -> Publication | None:
        """The publication written as `name` (name or alias, any script), the default when None."""
        if name is None or not name.strip():
            name = self.default_publication
            if name is None:
                return None
        key = fold(name).strip("《》<>")
        return self._pubs.get(key)

    def level(self, name: str) -> str | None:
        """The canonical level written as `name` (国办 → 国务院 …), or None if unknown."""
        return self._levels.get(fold(name))

    def level_rank(self, level: str) -> int:
        """Position of `level` from the office's own level (0) upward; -1 if unknown."""
        return self.levels.index(level) if level in self.levels else -1

    def series_rules(self, name: str) -> SeriesRules | None:
        """The targets of series `name`, or None when the rules do not list it."""
        return next((s for s in self.series if s.name == name), None)

    def penalty(self, name: str) -> Decimal | None:
        """Default points (positive) of the penalty called `name`, or None."""
        key = fold(name)
        return next((pts for n, pts in self.penalties if fold(n) == key), None)

    def commission_for(self, level: str | None) -> Decimal:
        """The 约稿 bonus of an item adopted at `level` (the flat bonus when no table by level)."""
        if self.commission_bonus_by_level:
            return next((p for lvl, p in self.commission_bonus_by_level if lvl == level), ZERO)
        return self.commission_bonus

    def vocabulary_fields(self) -> dict[str, Any]:
        """What the reply parser needs: publications → grades, default, levels and aliases.

        Keys match the fields of replies.Vocabulary. Aliases map both level and
        publication aliases to their canonical names.
        """
        aliases = dict(self.level_aliases)
        for pub in self.publications:
            aliases.update({a: pub.name for a in pub.aliases})
        return {
            "publications": {p.name: tuple(g.name for g in p.grades) for p in self.publications},
            "default_publication": self.default_publication,
            "instruct_levels": self.levels,
            "upper_levels": self.levels[1:],
            "aliases": aliases,
        }


@dataclass(frozen=True, slots=True)
class ScoringRules:
    """Everything in scoring.toml: the assessment calendar and the rule sets by date."""

    file: str
    calendar: Calendar
    rulesets: tuple[RuleSet, ...]

    def ruleset_on(self, day: date) -> RuleSet:
        """The rule set in force on `day` (the earliest one for days before all of them)."""
        current = self.rulesets[0]
        for rs in self.rulesets:
            if rs.effective_from <= day:
                current = rs
        return current

    def ruleset_at(self, moment: datetime) -> RuleSet:
        """The rule set in force at `moment`, judged by the office's local date."""
        if len(self.rulesets) == 1:
            return self.rulesets[0]  # the common case, and hot: scoring asks for every event
        return self.ruleset_on(moment.astimezone(self.calendar.tz).date())

    def ruleset_for(self, period: Period) -> RuleSet:
        """The rule set that sets a period's targets: the one in force on its first day."""
        return self.ruleset_at(period.start)

    def vocabulary_fields(self) -> dict[str, Any]:
        """The reply vocabulary of the rule set in force today."""
        return self.ruleset_on(date.today()).vocabulary_fields()


# ---------------------------------------------------------------- loading


_TOP_KEYS = {"calendar", "ruleset"}
_CALENDAR_KEYS = {"year_start", "timezone"}
_RULESET_KEYS = {
    "name",
    "effective_from",
    "combine",
    "levels",
    "level_aliases",
    "default_publication",
    "publication",
    "bonus",
    "upper_points",
    "forward_points",
    "commission_bonus",
    "commission_bonus_on_time_only",
    "penalties",
    "late_commission_penalty",
    "series",
}
_PUBLICATION_KEYS = {"name", "level", "points", "grades", "commission_points", "aliases"}
_BONUS_KEYS = {"name", "adopted_in", "instruct", "upper", "combine", "cap"}
_SERIES_KEYS = {
    "year_target",
    "quarter_target",
    "month_min",
    "month_min_points",
    "month_min_points_year_cap",
    "parent_credit",
}


@dataclass(frozen=True, slots=True)
class _Reader:
    """Typed access to parsed TOML that raises ScoringRulesError naming the key."""

    file: str

    def fail(self, key: str, problem: str) -> ScoringRulesError:
        return ScoringRulesError(self.file, key, problem)

    def table(self, value: Any, key: str, allowed: set[str] | None = None) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, "必须是表（table）")
        if allowed is not None:
            for k in value:
                if k not in allowed:
                    raise self.fail(f"{key}.{k}" if key else k, "未知的键")
        return value

    def string(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "必须是非空字符串")
        return value.strip()

    def strings(self, value: Any, key: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(key, "必须是字符串数组")
        return tuple(v.strip() for v in value)

    def points(self, value: Any, key: str) -> Decimal:
        # bool is an int subclass in Python; `true` as points is a typo, not 1.
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, "必须是数字")
        if value < 0:
            raise self.fail(key, "不能为负数（扣分也写正数）")
        return Decimal(str(value))

    def combine(self, value: Any, key: str) -> Combine:
        if value == "sum":
            return "sum"
        if value == "max":
            return "max"
        raise self.fail(key, '必须是 "sum"（分别计分，累计算分）或 "max"（就高不就低）')


def _level_table(
    r: _Reader, value: Any, key: str, levels: tuple[str, ...]
) -> tuple[tuple[str, Decimal], ...]:
    table = r.table(value, key)
    out: list[tuple[str, Decimal]] = []
    for level, pts in table.items():
        if level not in levels:
            raise r.fail(f"{key}.{level}", f"未知的级别，应为 levels 之一：{'、'.join(levels)}")
        out.append((level, r.points(pts, f"{key}.{level}")))
    return tuple(out)


def _publication(r: _Reader, data: Any, key: str, levels: tuple[str, ...]) -> Publication:
    t = r.table(data, key, _PUBLICATION_KEYS)
    name = r.string(t.get("name"), f"{key}.name")
    level = r.string(t.get("level", levels[0]), f"{key}.level")
    if level not in levels:
        raise r.fail(f"{key}.level", f"未知的级别 {level!r}，应为 levels 之一：{'、'.join(levels)}")
    grades: list[Grade] = []
    if "grades" in t:
        for g, pts in r.table(t["grades"], f"{key}.grades").items():
            grades.append(Grade(g, r.points(pts, f"{key}.grades.{g}")))
        if not grades:
            raise r.fail(f"{key}.grades", "不能为空表")
    if ("points" in t) == bool(grades):
        raise r.fail(f"{key}.points", "points（单一分值）与 grades（分档分值）必须且只能写一个")
    commission = t.get("commission_points")
    return Publication(
        name=name,
        level=level,
        points=r.points(t["points"], f"{key}.points") if "points" in t else ZERO,
        grades=tuple(grades),
        commission_points=None if commission is None else r.points(commission, f"{key}.commission_points"),
        aliases=r.strings(t.get("aliases", []), f"{key}.aliases"),
    )


def _bonus(
    r: _Reader, data: Any, key: str, levels: tuple[str, ...], pubs: Mapping[str, Publication]
) -> BonusRule:
    t = r.table(data, key, _BONUS_KEYS)
    adopted_in: list[tuple[str, str | None]] = []
    for i, ref in enumerate(r.strings(t.get("adopted_in", []), f"{key}.adopted_in")):
        pub_name, _, grade_name = ref.replace("：", ":").partition(":")
        pub = pubs.get(pub_name.strip())
        if pub is None:
            raise r.fail(f"{key}.adopted_in[{i}]", f"未定义的刊物 {pub_name.strip()!r}")
        grade = None
        if grade_name.strip():
            g = pub.grade(grade_name)
            if g is None:
                raise r.fail(f"{key}.adopted_in[{i}]", f"刊物《{pub.name}》没有档次 {grade_name.strip()!r}")
            grade = g.name
        adopted_in.append((pub.name, grade))
    rule = BonusRule(
        name=r.string(t.get("name"), f"{key}.name"),
        adopted_in=tuple(adopted_in),
        instruct=_level_table(r, t.get("instruct", {}), f"{key}.instruct", levels),
        upper=_level_table(r, t.get("upper", {}), f"{key}.upper", levels),
        combine=r.combine(t.get("combine", "sum"), f"{key}.combine"),
        cap=None if "cap" not in t else r.points(t["cap"], f"{key}.cap"),
    )
    if not rule.instruct and not rule.upper:
        raise r.fail(key, "加分规则至少要有 instruct 或 upper 之一")
    return rule


def _series(r: _Reader, name: str, data: Any, key: str) -> SeriesRules:
    t = r.table(data, key, _SERIES_KEYS)

    def opt(k: str) -> Decimal | None:
        return None if k not in t else r.points(t[k], f"{key}.{k}")

    month_min = t.get("month_min")
    if month_min is not None and (
        isinstance(month_min, bool) or not isinstance(month_min, int) or month_min < 0
    ):
        raise r.fail(f"{key}.month_min", "必须是非负整数（每月最少报送条数）")
    credit = opt("parent_credit") or ZERO
    if credit > 1:
        raise r.fail(f"{key}.parent_credit", "必须在 0 与 1 之间（如 0.5 表示 50%）")
    return SeriesRules(
        name=name,
        year_target=opt("year_target"),
        quarter_target=opt("quarter_target"),
        month_min=month_min,
        month_min_points=opt("month_min_points") or ZERO,
        month_min_points_year_cap=opt("month_min_points_year_cap"),
        parent_credit=credit,
    )


def _ruleset(r: _Reader, data: Any, key: str) -> RuleSet:
    t = r.table(data, key, _RULESET_KEYS)
    when = t.get("effective_from")
    if isinstance(when, datetime) or not isinstance(when, date):
        raise r.fail(f"{key}.effective_from", "必须是日期，如 2005-12-20（不加引号）")
    levels = r.strings(t.get("levels"), f"{key}.levels")
    if not levels or len(set(levels)) != len(levels):
        raise r.fail(f"{key}.levels", "必须列出各级别（本级在前，自下而上），不得重复")
    aliases: list[tuple[str, str]] = []
    for alias, target in r.table(t.get("level_aliases", {}), f"{key}.level_aliases").items():
        if target not in levels:
            raise r.fail(f"{key}.level_aliases.{alias}", f"指向未知的级别 {target!r}")
        aliases.append((alias, target))

    pub_list = t.get("publication", [])
    if not isinstance(pub_list, list) or not pub_list:
        raise r.fail(f"{key}.publication", "至少要有一个 [[ruleset.publication]]")
    pubs: dict[str, Publication] = {}
    for i, p in enumerate(pub_list):
        pub = _publication(r, p, f"{key}.publication[{i}]", levels)
        if pub.name in pubs:
            raise r.fail(f"{key}.publication[{i}].name", f"刊物 {pub.name!r} 重复")
        pubs[pub.name] = pub
    default = t.get("default_publication")
    if default is not None and r.string(default, f"{key}.default_publication") not in pubs:
        raise r.fail(f"{key}.default_publication", f"未定义的刊物 {default!r}")

    bonus_list = t.get("bonus", [])
    if not isinstance(bonus_list, list):
        raise r.fail(f"{key}.bonus", "必须是 [[ruleset.bonus]] 表数组")
    bonuses = tuple(_bonus(r, b, f"{key}.bonus[{i}]", levels, pubs) for i, b in enumerate(bonus_list))

    commission = t.get("commission_bonus", 0)
    by_level: tuple[tuple[str, Decimal], ...] = ()
    flat = ZERO
    if isinstance(commission, dict):
        by_level = _level_table(r, commission, f"{key}.commission_bonus", levels)
    else:
        flat = r.points(commission, f"{key}.commission_bonus")

    on_time_only = t.get("commission_bonus_on_time_only", True)
    if not isinstance(on_time_only, bool):
        raise r.fail(f"{key}.commission_bonus_on_time_only", "必须是 true 或 false")

    penalties = tuple(
        (name, r.points(pts, f"{key}.penalties.{name}"))
        for name, pts in r.table(t.get("penalties", {}), f"{key}.penalties").items()
    )
    late = t.get("late_commission_penalty")
    if late is not None and r.string(late, f"{key}.late_commission_penalty") not in dict(penalties):
        raise r.fail(f"{key}.late_commission_penalty", f"未在 penalties 中定义的扣分项 {late!r}")

    series = tuple(
        _series(r, name, s, f"{key}.series.{name}")
        for name, s in r.table(t.get("series", {}), f"{key}.series").items()
    )
    return RuleSet(
        name=r.string(t.get("name", str(when)), f"{key}.name"),
        effective_from=when,
        combine=r.combine(t.get("combine", "sum"), f"{key}.combine"),
        levels=levels,
        level_aliases=tuple(aliases),
        publications=tuple(pubs.values()),
        default_publication=default,
        bonuses=bonuses,
        upper_points=_level_table(r, t.get("upper_points", {}), f"{key}.upper_points", levels),
        forward_points=_level_table(r, t.get("forward_points", {}), f"{key}.forward_points", levels),
        commission_bonus=flat,
        commission_bonus_by_level=by_level,
        commission_bonus_on_time_only=on_time_only,
        penalties=penalties,
        late_commission_penalty=late,
        series=series,
    )


def _calendar(r: _Reader, data: Any) -> Calendar:
    t = r.table(data, "calendar", _CALENDAR_KEYS)
    start = r.string(t.get("year_start", "01-01"), "calendar.year_start")
    month_s, _, day_s = start.partition("-")
    if not (month_s.isdigit() and day_s.isdigit()) or not 1 <= int(month_s) <= 12 or int(day_s) != 1:
        raise r.fail("calendar.year_start", f"必须是某月1日，写作 MM-01（如 12-01），实为 {start!r}")
    tz_name = r.string(t.get("timezone", "Asia/Shanghai"), "calendar.timezone")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise r.fail("calendar.timezone", f"未知的时区 {tz_name!r}") from exc
    return Calendar(int(month_s), int(day_s), tz)


def rules_from_data(data: Mapping[str, Any], file: str = "scoring.toml") -> ScoringRules:
    """Build and validate the rules from parsed TOML."""
    r = _Reader(file)
    top = r.table(dict(data), "", _TOP_KEYS)
    calendar = _calendar(r, top.get("calendar", {}))
    sets = top.get("ruleset")
    if not isinstance(sets, list) or not sets:
        raise r.fail("ruleset", "至少要有一个 [[ruleset]]")
    rulesets = sorted(
        (_ruleset(r, s, f"ruleset[{i}]") for i, s in enumerate(sets)), key=lambda s: s.effective_from
    )
    for a, b in pairwise(rulesets):
        if a.effective_from == b.effective_from:
            raise r.fail("ruleset.effective_from", f"两个规则集同日生效：{a.effective_from}")
    return ScoringRules(file=file, calendar=calendar, rulesets=tuple(rulesets))


def rules_from_text(text: str, file: str = "scoring.toml") -> ScoringRules:
    """Parse and validate scoring.toml given as text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScoringRulesError(file, "(syntax)", str(exc)) from exc
    return rules_from_data(data, file)


def load_rules(path: Path) -> ScoringRules:
    """Read and validate scoring.toml."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ScoringRulesError(str(path), "scoring.file", "文件不存在") from exc
    return rules_from_text(text, str(path))
