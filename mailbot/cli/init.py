"""`mailbot init DIR`: a commented starting configuration for a new office.

A new office should get a config that runs at once with no servers (Maildir
in, SQLite, .eml files out) and that explains, next to each key, what to
change for its real mail system. mailbot.toml is generated from the typed
config (every key, with its documentation), so it can never miss a key the
code knows; units.toml is a short example; scoring.toml is a copy of a
shipped rule set (Guangzhou, a county or a city).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

from mailbot.cli.configdoc import ENV_OVERRIDES, field_default, toml_key, toml_value
from mailbot.core.scoring.rules import rules_from_text
from mailbot.shell.config import SECTIONS

CONFIG_DIR = Path(__file__).resolve().parent.parent / "defaults"


@dataclass(frozen=True, slots=True)
class Profile:
    """A shipped rule set and what the example config of an office using it looks like."""

    scoring: str  # under config/
    office: str  # default [office] name
    prefix: str  # 市 or 县, for the example units' names
    series: str  # the series of the example ordinary units
    direct_series: str  # the series of the example 直报点


PROFILES: dict[str, Profile] = {
    "guangzhou": Profile("scoring.toml", "广州市人民政府办公厅", "市", "部门A", "直报点A"),
    "county": Profile("profiles/county.toml", "××县人民政府办公室", "县", "县直部门", "直报点"),
    "city": Profile("profiles/city.toml", "××市人民政府办公室", "市", "市直A", "直报点"),
}

# Values of the written mailbot.toml that differ from the code's defaults.
_VALUES: dict[tuple[str, str], object] = {
    ("review", "reviewers"): ["editor@example.org"],
    ("review", "urgent"): ["duty@example.org"],
    ("office", "domain"): "example.org",
}

# Extra comment lines written above a key: how to point mailbot at a real mail system.
_NOTES: dict[tuple[str, str], str] = {
    ("mailbox", "url"): """\
As written: a Maildir folder next to this file, so mailbot runs with no mail server.
For a real mailbox, replace the url line (the @ of the login is written %40) and put
the password in the environment: MAILBOT_IMAP_PASSWORD. See docs/deploying.md.
  Dovecot on this host:     url = "imap://inbox%40example.org@127.0.0.1:143/INBOX"
  any server over TLS:      url = "imaps://xxb%40example.gov.cn@mail.example.gov.cn:993/INBOX"
  self-signed certificate:  add ?insecure=1    STARTTLS on 143: imap://…/INBOX?starttls=1
  Coremail (many 政务邮箱):  url = "imaps://xxb%40example.gov.cn@mail.example.gov.cn:993/INBOX"
      IMAP must be switched on for the account (设置 → 客户端设置); with 安全登录 on,
      use the 客户端授权码 as the password. Coremail has IDLE: new mail arrives in seconds.
  Exchange (on premises):   url = "imaps://xxb%40example.gov.cn@exchange.example.gov.cn:993/INBOX"
      the IMAP4 service must be running and IMAP enabled for the mailbox. mailbot logs in
      with a password: Exchange Online (Office 365) has turned password logins off for
      IMAP, and mailbot does not speak OAuth2.
  网易 163/126:             url = "imaps://xxb%40163.com@imap.163.com:993/INBOX"
      password = the 授权码 (设置 → POP3/SMTP/IMAP → 开启 IMAP), not the login password.
      163 may answer SELECT with "Unsafe Login" to clients that send no IMAP ID
      (see docs/deploying.md).
  网易企业邮:               url = "imaps://xxb%40example.gov.cn@imap.qiye.163.com:993/INBOX"
  腾讯企业邮 (exmail):      url = "imaps://xxb%40example.gov.cn@imap.exmail.qq.com:993/INBOX"
      enable IMAP in 设置 → 客户端设置; with 安全登录 on, use a 客户端专用密码.""",
    ("mailbox", "password"): "Better not here: set MAILBOT_IMAP_PASSWORD in the service's environment.",
    (
        "mailbox",
        "processed_folder",
    ): "Folders are written with / whatever the server uses; created when missing.",
    ("smtp", "url"): """\
As written: every outgoing mail (receipts, review requests, bulletins) is an .eml file
in var/outbox, so nothing leaves this machine. For a real server (password in the
environment: MAILBOT_SMTP_PASSWORD):
  Postfix on this host:     url = "smtp://127.0.0.1:25"
  submission with STARTTLS: url = "smtp+starttls://xxb%40example.gov.cn@mail.example.gov.cn:587"
  submission over TLS:      url = "smtps://xxb%40example.gov.cn@mail.example.gov.cn:465"
  Coremail:                 url = "smtps://xxb%40example.gov.cn@mail.example.gov.cn:465"
  Exchange (on premises):   url = "smtp+starttls://xxb%40example.gov.cn@exchange.example.gov.cn:587"
  网易 163:                 url = "smtps://xxb%40163.com@smtp.163.com:465"        (授权码)
  网易企业邮:               url = "smtps://xxb%40example.gov.cn@smtp.qiye.163.com:465"
  腾讯企业邮:               url = "smtps://xxb%40example.gov.cn@smtp.exmail.qq.com:465" (客户端专用密码)
Hosted mail only lets you send as the account you log in with: make `from` that address.""",
    ("smtp", "password"): "Better not here: set MAILBOT_SMTP_PASSWORD in the service's environment.",
    ("database", "url"): """\
SQLite (a file next to this config) is right for one daemon. Several daemons or many
mailboxes: url = "postgresql+psycopg://mailbot@db.example.gov.cn/mailbot" (password in
MAILBOT_DATABASE_URL or ~/.pgpass).""",
    ("archive", "path"): "Every mail received is kept here byte for byte: back it up with the database.",
    ("review", "reviewers"): "The editors (编辑/审核人); they get a review request for every new item.",
    ("review", "require_authenticated_sender"): """\
Set true once your mail server adds Authentication-Results (dkim=pass / spf=pass)
for incoming mail, and write its name in authserv_id.""",
    ("review", "secret"): "Leave unset: mailbot generates one and keeps it in the database.",
    ("units", "file"): "Units, series, parents (直报点) and officers' addresses.",
    ("scoring", "file"): "记分办法: publications, points, bonuses, targets (documented in the file itself).",
}


def _mailbot_toml(office_name: str) -> str:
    lines = [
        "# mailbot.toml — written by `mailbot init`. Every key is listed with what it does;",
        "# a key left out takes the default shown. The full reference is docs/config.md.",
        "#",
        "# Relative paths (and maildir://, file://, sqlite:/// URLs) are relative to THIS file's",
        "# folder. As written, mailbot needs no server: mail is read from the Maildir var/inbox,",
        "# the database is var/mailbot.db and outgoing mail is written to var/outbox as .eml.",
        "#   mailbot check-config -c mailbot.toml      # validate this file, units.toml, scoring.toml",
        "#   mailbot poll --once -c mailbot.toml       # one pass over the inbox",
        "#   mailbot run -c mailbot.toml               # the daemon",
        "# Secrets belong in the environment: " + ", ".join(sorted(set(ENV_OVERRIDES.values()))) + ".",
    ]
    values = {**_VALUES, ("office", "name"): office_name}
    for section, cls in SECTIONS.items():
        lines += ["", f"[{section}]"]
        summary = (cls.__doc__ or "").strip().split("\n", 1)[0]
        if "—" in summary:
            text = summary.split("—", 1)[1].strip()
            lines.append(f"# {text[0].upper()}{text[1:]}")
        for f in fields(cls):
            key = toml_key(section, f.name)
            default = field_default(f)
            note = _NOTES.get((section, key))
            if note:
                lines.append("")
                lines += [f"# {ln}".rstrip() for ln in note.splitlines()]
            doc = str(f.metadata.get("doc", ""))
            env = ENV_OVERRIDES.get((section, key))
            shown = "" if default is None else f" (default {toml_value(default)})"
            lines.append(
                f"# {key}: {doc}{shown}" + (f"; env {env} overrides" if env and env not in doc else "")
            )
            value = values.get((section, key), default)
            if value is None:
                lines.append(f'# {key} = "…"')
            else:
                lines.append(f"{key} = {toml_value(value)}")
    return "\n".join(lines) + "\n"


def _units_toml(main: str, direct: str, prefix: str, has_credit: bool) -> str:
    credit = (
        f'# The rules in scoring.toml credit the parent of a "{direct}" unit (parent_credit).'
        if has_credit
        else f'# Your scoring.toml has no parent_credit for "{direct}": add [ruleset.series."{direct}"]\n'
        "# with parent_credit = 0.5 (or 1.0) there if your rules credit parents (双轨制)."
    )
    return f"""\
# Reporting units (报送单位). One [[unit]] table per unit:
#   id          stable identifier, used by the CLI (mailbot decide, yuegao --units) and in JSON
#   name        full name as printed in bulletins
#   short       short name officers write in subjects (optional)
#   aliases     other names that must match this unit (Traditional forms match by themselves)
#   series      序列: sets the unit's targets; must be a series of scoring.toml to be scored
#   parent      (直报点 only, optional) id of the unit credited a share of its points (双轨制);
#               a list of ids credits each of them (范文6: 县区政府办公室和对口上级部门)
#   officers    addresses allowed to submit for this unit (信息员)
#   bulletin_to addresses that receive the monthly 通报
#
# The full list: keep it in Excel and save it as CSV (UTF-8) with this header row
#   id,name,short,aliases,series,parent,officers,bulletin_to
# (several aliases / officers / bulletin_to in one cell are separated by ";"), then
#   mailbot units import units.csv -c mailbot.toml
# An import adds or updates units in the database and never deletes one. Units written
# in this file are synced at every start as well.
#
# The three units below are examples: replace them and their example.org addresses.

[[unit]]
id = "U01"
name = "{prefix}交通运输局"
short = "交通运输局"
aliases = ["{prefix}交通局"]
series = "{main}"
officers = ["jtj@example.org"]
bulletin_to = ["jtj@example.org", "jtj-leader@example.org"]

[[unit]]
id = "U02"
name = "{prefix}教育局"
short = "教育局"
series = "{main}"
officers = ["jyj@example.org", "jyj-backup@example.org"]
bulletin_to = ["jyj@example.org"]

# A direct-report point (直报点): scored on its own, and its parent U01 is credited a share.
{credit}
[[unit]]
id = "Z01"
name = "{prefix}公路事务中心"
short = "公路事务中心"
series = "{direct}"
parent = "U01"
officers = ["glzx@example.org"]
bulletin_to = ["glzx@example.org"]
"""


def init_office(directory: Path, *, office: str | None = None, profile: str = "guangzhou") -> list[Path]:
    """Write mailbot.toml, units.toml and scoring.toml into `directory`; never overwrites a file.

    Raises FileExistsError naming the first file that exists, ValueError for an unknown profile.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r} (choose one of: {', '.join(PROFILES)})")
    p = PROFILES[profile]
    source = CONFIG_DIR / p.scoring
    try:
        scoring_text = source.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"the shipped rules {source} are missing from this installation") from exc
    series = rules_from_text(scoring_text, str(source)).rulesets[-1].series
    has_credit = any(s.name == p.direct_series and s.parent_credit > 0 for s in series)
    contents = {
        "mailbot.toml": _mailbot_toml(office or p.office),
        "units.toml": _units_toml(p.series, p.direct_series, p.prefix, has_credit),
        "scoring.toml": scoring_text,
    }
    directory.mkdir(parents=True, exist_ok=True)
    targets = [directory / name for name in contents]
    # Check all first, so a refusal leaves the folder as it was.
    for path in targets:
        if path.exists():
            raise FileExistsError(f"{path} exists already; mailbot init never overwrites a file")
    for path in targets:
        # "x": exclusive create, so a file appearing since the check is not overwritten either.
        with open(path, "x", encoding="utf-8", newline="\n") as fh:
            fh.write(contents[path.name])
    # mailbot.toml may come to hold a password: not world-readable.
    os.chmod(targets[0], 0o640)
    return targets
