"""units.toml: a direct-report point may name several parents; mistakes name the unit and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailbot.core.errors import ConfigError
from mailbot.core.submission.units import units_from_csv, units_from_data

BASE = [
    {"id": "xa", "name": "甲县人民政府", "series": "县区A"},
    {"id": "sa", "name": "市发展改革委", "series": "市直A"},
]


def test_parent_may_be_a_list_and_children_are_found_from_each() -> None:
    d = units_from_data({"unit": [*BASE, {"id": "zd", "name": "某镇直报点", "series": "直报点",
                                          "parent": ["xa", "sa"]}]})  # fmt: skip
    zd = d.get("zd")
    assert zd is not None and zd.parent == "xa" and zd.parents == ("xa", "sa")
    assert [u.id for u in d.children("sa")] == ["zd"] and [u.id for u in d.children("xa")] == ["zd"]


@pytest.mark.parametrize("parent", [["xa", "xa"], ["zd"], ["xa", "nope"], "nope", ["xa", ""], 7])
def test_bad_parents_name_the_key(parent: object) -> None:
    with pytest.raises(ConfigError) as info:
        units_from_data({"unit": [*BASE, {"id": "zd", "name": "某镇直报点", "series": "直报点", "parent": parent}]})
    assert info.value.key == "unit[2].parent"


def test_csv_import_reads_several_parents(tmp_path: Path) -> None:
    csv = tmp_path / "units.csv"
    csv.write_text("id,name,series,parent\nxa,甲县人民政府,县区A,\nsa,市发展改革委,市直A,\n"
                   "zd,某镇直报点,直报点,xa；sa\n", encoding="utf-8")  # fmt: skip
    zd = units_from_csv(csv).get("zd")
    assert zd is not None and zd.parents == ("xa", "sa")
