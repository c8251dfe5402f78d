"""The docs stay true to the code: docs/config.md is generated from mailbot/shell/config.py, and the
examples in the officers' and editors' guides parse as the guides say they do."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path

from mailbot.cli.configdoc import REGENERATE, config_reference, section_rows, toml_value
from mailbot.core.review.decisions import Adopt, Instruct, Reject
from mailbot.core.review.replies import DEFAULT_VOCABULARY, parse_commands
from mailbot.core.submission.refusals import RULES
from mailbot.core.submission.subject import parse_subject
from mailbot.shell.config import SECTIONS, config_from_data

REPO = Path(__file__).resolve().parents[2]


def _section_text(reference: str, section: str) -> str:
    match = re.search(rf"^## \[{re.escape(section)}\]\n(.*?)(?=^## )", reference, re.M | re.S)
    assert match, f"no ## [{section}] in the reference"
    return match.group(1)


def test_docs_config_md_is_up_to_date() -> None:
    committed = (REPO / "docs" / "config.md").read_text(encoding="utf-8")
    assert committed == config_reference(), (
        f"docs/config.md is out of date with mailbot/shell/config.py; regenerate it with `{REGENERATE}`"
    )


def test_every_key_of_the_shipped_config_is_in_the_reference() -> None:
    shipped = tomllib.loads((REPO / "config" / "mailbot.toml").read_text(encoding="utf-8"))
    reference = config_reference()
    missing = [
        f"{section}.{key}"
        for section, table in shipped.items()
        for key in table
        if f"| `{key}` |" not in _section_text(reference, section)
    ]
    assert not missing, f"keys of config/mailbot.toml not documented: {missing}"


def test_renamed_key_is_documented_under_its_toml_name() -> None:
    smtp = _section_text(config_reference(), "smtp")
    assert "| `from` |" in smtp
    assert "`sender`" not in smtp


def test_secrets_name_their_environment_variables() -> None:
    reference = config_reference()
    for section, key, env in [
        ("mailbox", "password", "MAILBOT_IMAP_PASSWORD"),
        ("smtp", "password", "MAILBOT_SMTP_PASSWORD"),
        ("database", "url", "MAILBOT_DATABASE_URL"),
        ("review", "secret", "MAILBOT_SECRET"),
    ]:
        row = next(
            ln for ln in _section_text(reference, section).splitlines() if ln.startswith(f"| `{key}` |")
        )
        assert f"`{env}`" in row


def test_documented_defaults_are_the_real_defaults(tmp_path: Path) -> None:
    # Writing every documented default into a file must give the same config as an empty file.
    lines: list[str] = []
    for section, cls in SECTIONS.items():
        lines.append(f"[{section}]")
        lines += [
            f"{key} = {toml_value(default)}"
            for key, _type, default, _doc, _env in section_rows(section, cls)
            if default is not None
        ]
    written = config_from_data(tomllib.loads("\n".join(lines)), tmp_path / "mailbot.toml")
    empty = config_from_data({}, tmp_path / "mailbot.toml")
    assert written == empty


def _code_blocks(path: Path, start: str, end: str) -> list[str]:
    text = path.read_text(encoding="utf-8")
    section = text[text.index(start) : text.index(end)]
    return re.findall(r"```\n(.*?)```", section, re.S)


def test_reply_examples_in_the_editors_guide_do_what_it_says() -> None:
    blocks = _code_blocks(REPO / "docs" / "reviewing.md", "## 三、", "## 四、")
    assert [parse_commands(b, DEFAULT_VOCABULARY) for b in blocks] == [
        [Adopt("穗府信息", "标题")],
        [Reject("内容与第2026-0009号重复")],
        [Adopt("穗府要情"), Instruct("市")],
    ]


def test_subject_examples_in_the_officers_guide_carry_every_required_field() -> None:
    blocks = _code_blocks(REPO / "docs" / "submitting.md", "## 二、", "## 四、")
    subjects = [line for b in blocks for line in b.splitlines() if line.strip()]
    assert len(subjects) == 5
    for subject in subjects:
        info = parse_subject(subject, dt.date(2026, 11, 5))
        assert info.fields.missing() == [], subject


def test_officers_guide_names_every_refusal_rule_as_the_replies_do() -> None:
    guide = (REPO / "docs" / "submitting.md").read_text(encoding="utf-8")
    officer_rules = [r for r in RULES.values() if r.id != "not_reviewer"]
    assert [r.name for r in officer_rules if f"| {r.name} |" not in guide] == []
