"""The registered units, their officers and how a name in a mail finds its unit.

Loaded from units.toml (SPEC §9). Matching is by full name, short name or
alias, compared after folding (Traditional = Simplified, full-width = half-width).
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mailbot.core.errors import ConfigError
from mailbot.core.mail.textnorm import fold

_UNIT_KEYS = {"id", "name", "short", "aliases", "series", "parent", "officers", "bulletin_to"}


@dataclass(frozen=True, slots=True)
class Unit:
    """One reporting unit (报送单位)."""

    id: str
    name: str
    series: str
    short: str = ""
    aliases: tuple[str, ...] = ()
    parent: str | None = None
    officers: tuple[str, ...] = ()
    bulletin_to: tuple[str, ...] = ()
    # A direct-report point may count toward more than its own office (范文6: 所在县区政府办公室
    # 和对口上级部门): `parent` is the first, these are the others.
    other_parents: tuple[str, ...] = ()

    @property
    def parents(self) -> tuple[str, ...]:
        """Every unit credited with this unit's score, `parent` first."""
        return ((self.parent,) if self.parent else ()) + self.other_parents

    def names(self) -> tuple[str, ...]:
        """Every name the unit may be written as, full name first."""
        return tuple(n for n in (self.name, self.short, *self.aliases) if n)


def _key(name: str) -> str:
    # Spaces and the usual joiners vary between how officers write a name.
    return fold(name).replace(" ", "").replace("(", "").replace(")", "")


@dataclass(slots=True)
class UnitDirectory:
    """All units, indexed for name matching and officer lookup."""

    units: list[Unit]
    _by_id: dict[str, Unit] = field(default_factory=dict, init=False, repr=False)
    _by_name: dict[str, Unit] = field(default_factory=dict, init=False, repr=False)
    _by_officer: dict[str, list[Unit]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for unit in self.units:
            self._by_id[unit.id] = unit
            for name in unit.names():
                self._by_name.setdefault(_key(name), unit)
            for addr in unit.officers:
                self._by_officer.setdefault(addr.lower(), []).append(unit)

    def get(self, unit_id: str) -> Unit | None:
        """The unit with this id, or None."""
        return self._by_id.get(unit_id)

    def match(self, name: str) -> Unit | None:
        """The unit written as `name` (full, short or alias; any script or width), or None."""
        key = _key(name)
        if not key:
            return None
        return self._by_name.get(key)

    def units_of_officer(self, address: str) -> list[Unit]:
        """The units for which `address` is a registered officer (usually one)."""
        return list(self._by_officer.get(address.lower(), []))

    def children(self, unit_id: str) -> list[Unit]:
        """Direct-report points whose parent is `unit_id`."""
        return [u for u in self.units if unit_id in u.parents]

    def series(self) -> list[str]:
        """Series names in the order they first appear in units.toml."""
        seen: dict[str, None] = {}
        for u in self.units:
            seen.setdefault(u.series, None)
        return list(seen)

    def __iter__(self) -> Iterator[Unit]:
        return iter(self.units)

    def __len__(self) -> int:
        return len(self.units)


def _str_tuple(value: Any, file: str, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(file, key, "must be a list of strings")
    return tuple(value)


def units_from_data(data: Mapping[str, Any], file: str = "units.toml") -> UnitDirectory:
    """Build the directory from parsed TOML, validating every key."""
    tables = data.get("unit", [])
    if not isinstance(tables, list):
        raise ConfigError(file, "unit", "must be an array of tables: [[unit]]")
    units: list[Unit] = []
    ids: set[str] = set()
    for i, t in enumerate(tables):
        where = f"unit[{i}]"
        if not isinstance(t, dict):
            raise ConfigError(file, where, "must be a table")
        unknown = set(t) - _UNIT_KEYS
        if unknown:
            raise ConfigError(file, f"{where}.{sorted(unknown)[0]}", "unknown key")
        for req in ("id", "name", "series"):
            if not isinstance(t.get(req), str) or not t[req].strip():
                raise ConfigError(file, f"{where}.{req}", "is required and must be a non-empty string")
        uid = t["id"]
        if uid in ids:
            raise ConfigError(file, f"{where}.id", f"duplicate unit id {uid!r}")
        ids.add(uid)
        parents = _str_tuple(t.get("parent", []), file, f"{where}.parent")
        if len(set(parents)) != len(parents) or uid in parents or not all(p.strip() for p in parents):
            raise ConfigError(file, f"{where}.parent", "must be a unit id or a list of other units' ids")
        units.append(
            Unit(
                id=uid,
                name=t["name"],
                series=t["series"],
                short=str(t.get("short", "")),
                aliases=_str_tuple(t.get("aliases", []), file, f"{where}.aliases"),
                parent=parents[0] if parents else None,
                other_parents=parents[1:],
                officers=tuple(
                    a.lower() for a in _str_tuple(t.get("officers", []), file, f"{where}.officers")
                ),
                bulletin_to=_str_tuple(t.get("bulletin_to", []), file, f"{where}.bulletin_to"),
            )
        )
    for i, u in enumerate(units):
        for parent in u.parents:
            if parent not in ids:
                raise ConfigError(file, f"unit[{i}].parent", f"no unit has id {parent!r}")
    return UnitDirectory(units)


def load_units(path: Path) -> UnitDirectory:
    """Read and validate units.toml."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(str(path), "units.file", "file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "(syntax)", str(exc)) from exc
    return units_from_data(data, str(path))


def units_from_csv(path: Path) -> UnitDirectory:
    """Read units from a CSV with the units.toml columns; list cells are separated by ';'.

    Offices keep their unit list in Excel: a CSV export with a header row
    `id,name,short,aliases,series,parent,officers,bulletin_to` imports as is (several parents: a;b).
    """
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError as exc:
        raise ConfigError(str(path), "(file)", "file not found") from exc
    tables: list[dict[str, Any]] = []
    for row in rows:
        table: dict[str, Any] = {}
        for key, value in row.items():
            if key is None or value is None or not value.strip():
                continue
            key = key.strip()
            if key in {"aliases", "officers", "bulletin_to", "parent"}:
                table[key] = [v.strip() for v in value.replace("；", ";").split(";") if v.strip()]
            else:
                table[key] = value.strip()
        tables.append(table)
    return units_from_data({"unit": tables}, str(path))
