"""The reply-command grammar of SPEC §3: a reviewer's reply body → typed decisions.

Reviewers decide by typing commands (采用 穗府信息 标题, 不采用 理由, 批示 市 …)
one per line at the top of a reply. This module is a pure parser: quotes are
stripped first (quotes.strip_quotes), then the leading lines are read until the
first line that is not a command.

Rules that matter more than convenience:
- A negated 采用 (不采用, 暂不采用, 不予采用, 未采用, 不同意采用 …) is never an
  adoption. Commands are matched at the start of the line, longest keyword
  first, so 不采用 can never be read as 采用.
- Keywords are matched on folded text (Traditional = Simplified, full-width =
  half-width); reasons are returned as the reviewer wrote them.
- A recognised command with arguments we cannot read (an unknown publication,
  a grade the publication does not have, a missing level or number) is an
  error, never a silent default: a typo must not adopt at the wrong grade.
- Commands are data: a table of keyword → handler, extended per Vocabulary
  with level-prefixed forms (省采用, 市领导批示).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from mailbot.core.errors import CommandError
from mailbot.core.mail.quotes import strip_quotes
from mailbot.core.mail.textnorm import fold, to_simplified
from mailbot.core.review.decisions import (
    Adopt,
    Commission,
    Decision,
    Forward,
    Help,
    Instruct,
    Penalty,
    Reject,
    Undo,
    UpperAdopt,
)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The names a reviewer may use: publications with their grades, levels and aliases."""

    publications: Mapping[str, tuple[str, ...]]  # publication → its grades (may be empty)
    default_publication: str | None
    instruct_levels: tuple[str, ...]  # levels for 批示
    upper_levels: tuple[str, ...]  # levels for 上级采用 and 上报
    aliases: Mapping[str, str] = field(default_factory=dict)  # other name → a publication or level


DEFAULT_VOCABULARY = Vocabulary(
    publications={
        "穗府信息": ("标题", "短波"),
        "穗府要情": (),
        "收文呈阅表": (),
        "穗府调研报告": ("主办", "参与"),
        "穗府信息专报": (),
    },
    default_publication="穗府信息",
    instruct_levels=("市", "省", "国务院"),
    upper_levels=("省", "国务院"),
    aliases={
        "市领导": "市",
        "省领导": "省",
        "国务院领导": "国务院",
        "国办": "国务院",
        "国务院办公厅": "国务院",
        "省政府": "省",
        "省府": "省",
        "市政府": "市",
    },
)

COMMAND_TABLE: tuple[tuple[str, str, str], ...] = (
    ("采用 [刊物] [档次]", "采用；不写刊物即默认刊物，档次如 标题、短波", "采用 穗府信息 标题"),
    ("同意采用 [刊物] [档次]", "同“采用”", "同意采用 穗府要情"),
    ("不采用 [理由]", "不采用，理由转告报送单位；暂不采用、不予采用、退回 同义", "不采用 内容与上期重复"),
    ("批示 <级别>", "领导批示，级别如 市、省、国务院；也可写 市领导批示", "批示 市"),
    ("上级采用 <级别>", "被上级采用；也可写 省采用、国办采用", "省采用"),
    ("上报 <级别>", "已报送上级", "上报 省"),
    ("约稿", "标记为约稿稿件", "约稿"),
    ("扣分 <分值> [理由]", "扣报送单位的分，理由如 迟报、漏报", "扣分 2 迟报"),
    ("撤销", "撤销本人对此稿的上一个决定", "撤销"),
    ("帮助", "回复本命令表", "帮助"),
)

# Characters that may open a command line: brackets and Markdown bold from HTML mail.
_OPENERS = frozenset(" \t【[「『(《<*\"'“‘〔")
# Argument separators (after folding: full-width space and comma are already ASCII).
_SEPARATORS = frozenset(" \t,、:/】]」』)》>*\"'”’〕")
# Sentence ends: what follows is prose, not arguments (采用！谢谢).
_STOPS = frozenset("。.!?;~…")
_COURTESY = ("谢谢", "多谢", "感谢", "辛苦", "好的", "thanks", "thank you", "thx", "ok")
_GREETING = re.compile(
    r"^(您好|你好|老师好|老师您好|大家好|各位好|hi|hello|dear\s+[^,:]{1,20}"
    r"|.{1,8}(老师|同志|主任|科长|处长|领导)(您好|你好|好)?)[\s,:!.。]*$",
    re.IGNORECASE,
)
_LEVEL_SUFFIXES = ("领导", "级")


@dataclass(frozen=True, slots=True)
class _Line:
    """One line, folded for matching, with a map back to the characters as written."""

    original: str
    folded: str
    origin: tuple[int, ...]  # origin[i]: index in `original` of folded[i]; one extra entry at the end

    @classmethod
    def of(cls, line: str) -> _Line:
        parts: list[str] = []
        origin: list[int] = []
        for index, char in enumerate(line):
            # Per character, so every folded position maps back to one written character.
            folded = to_simplified(unicodedata.normalize("NFKC", char)).lower()
            parts.append(folded)
            origin.extend([index] * len(folded))
        origin.append(len(line))
        return cls(line, "".join(parts), tuple(origin))

    def written(self, start: int, end: int | None = None) -> str:
        """The original text of folded[start:end]."""
        stop = self.origin[len(self.folded) if end is None else end]
        return self.original[self.origin[start] : stop]

    def skip(self, i: int, chars: frozenset[str], end: int | None = None) -> int:
        limit = len(self.folded) if end is None else end
        while i < limit and self.folded[i] in chars:
            i += 1
        return i

    def stop(self, i: int) -> int:
        """Index of the first sentence end at or after i (or the line's end)."""
        while i < len(self.folded) and self.folded[i] not in _STOPS:
            i += 1
        return i

    def token_end(self, i: int, end: int) -> int:
        while i < end and self.folded[i] not in _SEPARATORS:
            i += 1
        return i


# A handler returns None when the keyword turns out not to start a command (扣 in prose).
_Handler = Callable[[_Line, int, Vocabulary], Decision | None]


def _key(name: str) -> str:
    return _Line.of(name).folded.strip()


def _longest(line: _Line, i: int, end: int, names: Mapping[str, str]) -> tuple[str, int] | None:
    """The canonical name whose folded spelling is the longest prefix of line[i:end], and where it ends."""
    best: tuple[str, int] | None = None
    for spelling, canonical in names.items():
        j = i + len(spelling)
        if j <= end and line.folded.startswith(spelling, i) and (best is None or j > best[1]):
            best = (canonical, j)
    return best


def _is_courtesy(line: _Line, i: int) -> bool:
    return line.folded.startswith(_COURTESY, i)


def _names_for(vocab: Vocabulary, canonical: tuple[str, ...]) -> dict[str, str]:
    """Folded spelling → canonical name, for the canonical names and the aliases that point to them."""
    names = {_key(name): name for name in canonical}
    names.update({_key(alias): target for alias, target in vocab.aliases.items() if target in canonical})
    return names


def _publication_list(vocab: Vocabulary) -> str:
    return "、".join(
        f"{name}（{'、'.join(grades)}）" if grades else name for name, grades in vocab.publications.items()
    )


def _adopt(line: _Line, pos: int, vocab: Vocabulary) -> Decision:
    end = line.stop(pos)
    publications = _names_for(vocab, tuple(vocab.publications))
    grades = {_key(g): g for gs in vocab.publications.values() for g in gs}
    publication: str | None = None
    grade: str | None = None
    i = line.skip(pos, _SEPARATORS, end)
    while i < end:
        if publication is None and (found := _longest(line, i, end, publications)):
            publication, i = found
        elif grade is None and (found := _longest(line, i, end, grades)):
            grade, i = found
        elif _is_courtesy(line, i):
            break
        else:
            seen = line.written(i, line.token_end(i, end))
            raise CommandError(
                f"看不懂“采用”后面的“{seen}”。采用后面可写刊物和档次，刊物可选：{_publication_list(vocab)}",
                line.original.strip(),
            )
        i = line.skip(i, _SEPARATORS, end)
    return _checked_adopt(publication, grade, vocab, line.original.strip())


def _checked_adopt(publication: str | None, grade: str | None, vocab: Vocabulary, seen: str) -> Adopt:
    if grade is None:
        return Adopt(publication, None)
    if publication is None:
        default = vocab.default_publication
        if default is not None and grade in vocab.publications.get(default, ()):
            return Adopt(default, grade)
        owners = [name for name, grades in vocab.publications.items() if grade in grades]
        example = f"采用 {owners[0]} {grade}" if owners else "采用 穗府信息 标题"
        raise CommandError(
            f"档次“{grade}”不属于默认刊物“{default or '（未配置）'}”，请写明刊物，例如：{example}", seen
        )
    allowed = vocab.publications[publication]
    if grade not in allowed:
        choices = f"可选档次：{'、'.join(allowed)}" if allowed else "该刊物不分档次"
        raise CommandError(f"刊物“{publication}”没有档次“{grade}”，{choices}", seen)
    return Adopt(publication, grade)


def _reject(line: _Line, pos: int, vocab: Vocabulary) -> Decision:
    i = line.skip(pos, _SEPARATORS | _STOPS)
    if _is_courtesy(line, i) and line.stop(i) == len(line.folded):
        return Reject("")
    return Reject(line.written(i).strip())


def _level(
    line: _Line, pos: int, vocab: Vocabulary, levels: tuple[str, ...], command: str
) -> tuple[str, int]:
    """Read the level argument of 批示/上级采用/上报; any remark after it is allowed."""
    end = line.stop(pos)
    i = line.skip(pos, _SEPARATORS, end)
    found = _longest(line, i, end, _names_for(vocab, levels))
    if found is not None:
        level, j = found
        for suffix in _LEVEL_SUFFIXES:
            if line.folded.startswith(suffix, j):
                j += len(suffix)
                break
        if j == end or line.folded[j] in _SEPARATORS:
            return level, j
    seen = line.written(i, line.token_end(i, end)) if i < end else ""
    what = f"看不懂级别“{seen}”" if seen else "缺少级别"
    raise CommandError(f"“{command}”{what}，可选级别：{'、'.join(levels)}", line.original.strip())


def _instruct(line: _Line, pos: int, vocab: Vocabulary) -> Decision:
    return Instruct(_level(line, pos, vocab, vocab.instruct_levels, "批示")[0])


def _upper_adopt(line: _Line, pos: int, vocab: Vocabulary) -> Decision:
    return UpperAdopt(_level(line, pos, vocab, vocab.upper_levels, "上级采用")[0])


def _forward(line: _Line, pos: int, vocab: Vocabulary) -> Decision:
    return Forward(_level(line, pos, vocab, vocab.upper_levels, "上报")[0])


_NUMBER = r"(\d+(?:\.\d+)?|[零一二两三四五六七八九十半]+)"
_PENALTY_AFTER_KEYWORD = re.compile(r"[\s:,]*" + _NUMBER + r"\s*分?")  # 扣分 5 / 扣分：5分
_PENALTY_SHORT = re.compile(r"\s*除?\s*" + _NUMBER + r"\s*分")  # 扣5分 / 扣除 0.5 分
_CN_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


def _number(text: str) -> float | None:
    """Arabic or simple Chinese numerals (五, 十五, 二十, 半) → value; None when unreadable."""
    if text[0].isdigit():
        return float(text)
    if text == "半":
        return 0.5
    if "十" in text:
        tens, _, ones = text.partition("十")
        if (
            len(tens) > 1
            or len(ones) > 1
            or (tens and tens not in _CN_DIGITS)
            or (ones and ones not in _CN_DIGITS)
        ):
            return None
        return float((_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0))
    return float(_CN_DIGITS[text]) if len(text) == 1 and text in _CN_DIGITS else None


def _penalty_with(pattern: re.Pattern[str], *, strict: bool) -> _Handler:
    def handler(line: _Line, pos: int, vocab: Vocabulary) -> Decision | None:
        match = pattern.match(line.folded, pos)
        if match is None and not strict:
            return None
        points = _number(match.group(1)) if match else None
        if match is None or points is None or points <= 0:
            raise CommandError(
                "扣分要写一个大于 0 的分值，例如：扣分 2 迟报 或 扣2分 迟报", line.original.strip()
            )
        reason = line.written(line.skip(match.end(), _SEPARATORS | _STOPS)).strip()
        return Penalty(points, reason)

    return handler


def _constant(decision: Decision) -> _Handler:
    def handler(line: _Line, pos: int, vocab: Vocabulary) -> Decision:
        return decision

    return handler


def _fixed_level(make: Callable[[str], Decision], level: str) -> _Handler:
    def handler(line: _Line, pos: int, vocab: Vocabulary) -> Decision:
        return make(level)

    return handler


# Keyword → handler. Order does not matter: matching is longest keyword first.
_COMMANDS: tuple[tuple[str, _Handler], ...] = (
    ("采用", _adopt),
    ("同意采用", _adopt),
    ("采纳", _adopt),
    ("同意采纳", _adopt),
    ("不采用", _reject),
    ("暂不采用", _reject),
    ("不予采用", _reject),
    ("未采用", _reject),
    ("未予采用", _reject),
    ("不同意采用", _reject),
    ("不采纳", _reject),
    ("暂不采纳", _reject),
    ("不予采纳", _reject),
    ("不用", _reject),
    ("退回", _reject),
    ("批示", _instruct),
    ("领导批示", _instruct),
    ("上级采用", _upper_adopt),
    ("上报", _forward),
    ("约稿", _constant(Commission())),
    ("扣分", _penalty_with(_PENALTY_AFTER_KEYWORD, strict=True)),
    ("扣", _penalty_with(_PENALTY_SHORT, strict=False)),
    ("撤销", _constant(Undo())),
    ("撤消", _constant(Undo())),
    ("帮助", _constant(Help())),
    ("help", _constant(Help())),
    ("?", _constant(Help())),
)


def _keywords(vocab: Vocabulary) -> list[tuple[str, _Handler]]:
    """The static table plus 省采用 / 市领导批示 forms for this vocabulary, longest first."""
    table: dict[str, _Handler] = {_key(k): h for k, h in _COMMANDS}
    for spelling, level in _names_for(vocab, vocab.upper_levels).items():
        table[spelling + "采用"] = _fixed_level(UpperAdopt, level)
    for spelling, level in _names_for(vocab, vocab.instruct_levels).items():
        table[spelling + "批示"] = _fixed_level(Instruct, level)
        table[spelling + "领导批示"] = _fixed_level(Instruct, level)
    return sorted(table.items(), key=lambda item: len(item[0]), reverse=True)


def parse_command_line(line: str, vocab: Vocabulary) -> Decision | None:
    """One line → its decision, or None when the line is not a command at all.

    Raises CommandError for a command whose arguments cannot be read.
    """
    folded = _Line.of(line)
    i = folded.skip(0, _OPENERS)
    for keyword, handler in _keywords(vocab):
        if not folded.folded.startswith(keyword, i):
            continue
        j = i + len(keyword)
        # "help" must not match "helpful"; Chinese keywords need no such boundary.
        if keyword[-1].isascii() and keyword[-1].isalnum() and j < len(folded.folded):
            if folded.folded[j].isascii() and folded.folded[j].isalnum():
                continue
        decision = handler(folded, j, vocab)
        if isinstance(decision, Adopt) and _NEGATED_ADOPTION.search(folded.folded, j):
            # 采用，谢谢，不采用: whatever the writer meant, it is not a clear adoption.
            raise CommandError("同一行里既有采用又有不采用，请只写一个决定", line.strip())
        return decision
    return None


# A negated adoption anywhere after an adoption on the same line.
_NEGATED_ADOPTION = re.compile(r"(?:不|未|别|不予|未予|不同意|不要)(?:采用|采纳)")


def parse_commands(body: str, vocab: Vocabulary) -> list[Decision]:
    """Read the commands at the top of a reply body (quotes stripped first).

    Raises CommandError when there is no command, when a command's arguments are wrong,
    or when one reply both adopts and rejects.
    """
    decisions: list[Decision] = []
    for line in strip_quotes(body).splitlines():
        folded = fold(line)
        if not folded:
            continue
        decision = parse_command_line(line, vocab)
        if decision is None:
            if decisions:
                break  # the command block ends at the first line of prose
            if _GREETING.match(folded):
                continue
            raise CommandError(
                "回复的第一行不是命令，请在第一行写命令，例如：采用 穗府信息 标题", line.strip()
            )
        decisions.append(decision)
    if not decisions:
        raise CommandError("回复中没有找到命令，请在第一行写命令，例如：采用 穗府信息 标题")
    kinds = {type(d) for d in decisions}
    if Adopt in kinds and Reject in kinds:
        raise CommandError("同一封回复里既有采用又有不采用，请只写一个决定")
    return decisions
