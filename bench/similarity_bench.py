"""Benchmark of 雷同 detection over a year of items (docs/performance.md).

Generates `n_items` 政务信息 of one year from a vocabulary of government
phrases (seeded, so runs are comparable), with ~2% planted near-duplicates
(the same unit within 30 days or another unit within 7 days, reworded the way
units do it). Replays intake in time order — query the index, then add — with
a daily prune, and reports throughput, peak RSS, precision and recall on the
planted pairs, and, for a subset of the same queries, an exhaustive exact
comparison over the same windows: its time (the speedup) and its answers
(how many the index's LSH missed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import sys
import time
from bisect import bisect_left
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

import opencc

from mailbot.core.submission.similarity import (
    DEFAULT_THRESHOLD,
    MIN_SHINGLES,
    Doc,
    SimilarityIndex,
    jaccard,
    normalise,
    shingles,
)

SAME_UNIT_DAYS = 30
OTHER_UNIT_DAYS = 7
DUPLICATE_SHARE = 0.02
BASELINE_QUERIES = 2000

_DISTRICTS = ["越秀", "海珠", "荔湾", "天河", "白云", "黄埔", "番禺", "花都", "南沙", "从化", "增城"]
_BUREAUS = [
    "发展改革委", "教育局", "科技局", "工业和信息化局", "公安局", "民政局", "司法局", "财政局",
    "人力资源社会保障局", "规划和自然资源局", "生态环境局", "住房城乡建设局", "交通运输局", "水务局",
    "农业农村局", "商务局", "文化广电旅游局", "卫生健康委", "退役军人事务局", "应急管理局", "审计局",
    "国资委", "市场监管局", "体育局", "统计局", "医保局", "林业园林局", "城市管理综合执法局", "政务服务数据管理局",
    "信访局", "港务局", "地方金融管理局", "供销社", "气象局", "消防救援支队",
]  # fmt: skip
_TOPICS = [
    "老旧小区改造", "营商环境", "乡村振兴", "安全生产", "防汛防台风", "垃圾分类", "稳就业", "养老服务",
    "基层治理", "数字政府", "招商引资", "生态环境保护", "城市更新", "义务教育", "医疗卫生", "食品安全",
    "粮食生产", "河长制", "交通拥堵治理", "住房保障", "文明城市创建", "森林防火", "消费提振", "科技创新",
    "外贸稳增长", "人才引进", "信访维稳", "矛盾纠纷化解", "扫黑除恶", "民生实事", "12345热线", "政务服务",
    "产业园区建设", "重点项目建设", "文旅融合", "社区治理", "耕地保护", "污染防治", "社会救助", "企业减负",
]  # fmt: skip
_TIME = ["今年以来", "近年来", "近期", "上半年", "一季度以来", "今年1至{m}月", "{m}月以来", "去年以来"]
_LEADS = [
    "坚持以人民为中心", "坚持问题导向", "聚焦群众急难愁盼", "围绕市委市政府中心工作", "坚持系统思维",
    "坚持高位推动", "紧扣年度目标任务", "坚持改革创新", "坚持党建引领", "强化底线思维",
]  # fmt: skip
_OPEN_VERBS = ["扎实推进", "全力抓好", "持续深化", "统筹推进", "大力实施", "着力加强", "积极探索", "全面落实"]
_ORDINALS = ["一是", "二是", "三是", "四是", "五是"]
_ADVERBS = ["持续", "着力", "全面", "积极", "深入", "切实", "大力", "不断", "进一步", "率先", "稳步", "全力"]
_VERBS = [
    "完善", "健全", "优化", "强化", "推动", "压实", "建立", "推行", "落实", "提升", "规范", "拓展", "整合",
    "创新", "加快", "夯实", "深化", "织密", "畅通", "打造",
]  # fmt: skip
_OBJECTS = [
    "工作机制", "责任体系", "服务网络", "监管链条", "考核办法", "资金保障", "协调联动", "信息共享平台",
    "排查整治", "宣传引导", "队伍建设", "制度体系", "应急预案", "督导检查", "智慧平台", "配套设施",
    "政策供给", "要素保障", "示范引领", "基层网格", "群众参与", "专班运作", "台账管理", "闭环管理",
    "分类施策", "项目储备", "联席会议制度", "服务清单", "容错纠错机制", "结对帮扶",
]  # fmt: skip
_RESULTS = [
    "取得明显成效", "形成长效机制", "群众满意度明显提升", "实现全覆盖", "走在全市前列", "得到上级肯定",
    "有效破解难题", "推动工作提质增效", "形成可复制经验", "筑牢安全防线", "激发内生动力",
]  # fmt: skip
_STAT_VERBS = ["累计完成", "新增", "组织开展", "排查", "投入资金", "服务群众", "惠及", "办结", "培训", "建成"]
_MEASURES = ["个", "项", "场", "万元", "亿元", "万人次", "户", "家", "宗", "公里", "处"]
_CLOSINGS = [
    "继续加大工作力度，推动各项任务落地见效",
    "认真总结经验做法，形成长效工作机制",
    "聚焦薄弱环节，持续补短板强弱项",
    "强化统筹协调，确保完成全年目标任务",
    "坚持问题导向，不断提升群众获得感",
    "加强督促检查，压紧压实各方责任",
]  # fmt: skip
_TITLE_TAILS = [
    "取得实效",
    "见行见效",
    "成效明显",
    "走深走实",
    "提质增效",
    "再上新台阶",
    "工作情况",
    "的做法",
]
_GENERIC_OPENING = "为深入贯彻落实上级决策部署，进一步提升工作质效，现将有关情况报告如下。"


@dataclass(frozen=True, slots=True)
class _Planted:
    source: str  # the item it was made from


def _units() -> list[str]:
    names = [d + "区" for d in _DISTRICTS]
    names += ["市" + b for b in _BUREAUS]
    names += [d + "区" + b for d in _DISTRICTS[:4] for b in _BUREAUS[:18]]
    return names


def _short(unit: str) -> str:
    return unit[:3] if unit.endswith("区") else unit


def _sentences(rng: random.Random, unit: str, topic: str) -> tuple[str, list[str]]:
    t = rng.choice(_TIME).format(m=rng.randint(2, 11))
    title = f"{unit}{rng.choice(_OPEN_VERBS)}{topic}{rng.choice(_TITLE_TAILS)}"
    opening = (
        f"{t}，{unit}{rng.choice(_LEADS)}，{rng.choice(_OPEN_VERBS)}{topic}工作，{rng.choice(_RESULTS)}。"
    )
    body = [opening]
    for ordinal in _ORDINALS[: rng.randint(3, 5)]:
        clauses = [
            f"{rng.choice(_ADVERBS)}{rng.choice(_VERBS)}{rng.choice(_OBJECTS)}"
            for _ in range(rng.randint(2, 3))
        ]
        stat = f"{rng.choice(_STAT_VERBS)}{rng.choice(_OBJECTS)}{rng.randint(3, 980)}{rng.choice(_MEASURES)}"
        body.append(f"{ordinal}{'，'.join(clauses)}，{stat}。")
    body.append(
        f"截至{rng.randint(1, 12)}月底，{rng.choice(_STAT_VERBS)}{rng.randint(12, 9800)}{rng.choice(_MEASURES)}，"
        f"同比增长{rng.randint(1, 40)}.{rng.randint(0, 9)}%。"
    )
    body.append(f"下一步，{_short(unit)}将{rng.choice(_CLOSINGS)}。")
    return title, body


def _split(text: str) -> list[str]:
    return re.findall(r"[^。]*。|[^。]+$", text)


def _reword(rng: random.Random, title: str, body: list[str], old_unit: str, new_unit: str) -> tuple[str, str]:
    """Rework an item the way a unit recycles one: 1–2 edits that keep it recognisably the same."""
    body = list(body)
    if old_unit != new_unit:
        title = title.replace(old_unit, new_unit)
        body = [s.replace(old_unit, new_unit).replace(_short(old_unit), _short(new_unit)) for s in body]
    for edit in rng.sample(
        ["opening", "append", "chars", "reorder", "title", "traditional"], rng.randint(1, 2)
    ):
        if edit == "opening":
            body[0] = _GENERIC_OPENING
        elif edit == "append":
            body.insert(-1, f"同时，{rng.choice(_ADVERBS)}{rng.choice(_VERBS)}{rng.choice(_OBJECTS)}。")
        elif edit == "chars":
            text = list("".join(body))
            for _ in range(5):
                i = rng.randrange(len(text))
                text[i] = rng.choice("0123456789一二三四五")
            body = _split("".join(text))
        elif edit == "reorder" and len(body) > 3:
            middle = body[1:-1]
            rng.shuffle(middle)
            body = [body[0], *middle, body[-1]]
        elif edit == "title":
            title = f"关于{title}的报告"
        elif edit == "traditional":
            body = [str(_S2T.convert(s)).replace("，", ", ") for s in body]
    return title, "".join(body)


_S2T = opencc.OpenCC("s2t")


def generate(n_items: int, seed: int) -> tuple[list[Doc], dict[str, _Planted]]:
    """`n_items` items of one year in time order, and which of them are planted near-duplicates."""
    rng = random.Random(seed)
    units = _units()
    start = datetime(2026, 1, 1, 8, 0)
    times = sorted(start + timedelta(seconds=rng.randrange(365 * 86400)) for _ in range(n_items))
    docs: list[Doc] = []
    bodies: list[list[str]] = []
    planted: dict[str, _Planted] = {}
    for i, at in enumerate(times):
        item_id = f"2026-{i + 1:05d}"
        unit = rng.choice(units)
        source = _pick_source(rng, docs, at, unit) if rng.random() < DUPLICATE_SHARE else None
        if source is not None:
            src = docs[source]
            title, text = _reword(rng, src.title, bodies[source], src.unit_id or unit, unit)
            planted[item_id] = _Planted(src.item_id)
            body = _split(text)
        else:
            title, body = _sentences(rng, unit, rng.choice(_TOPICS))
            text = "".join(body)
        docs.append(Doc(item_id, unit, at, title, text))
        bodies.append(body)
    return docs, planted


def _pick_source(rng: random.Random, docs: list[Doc], at: datetime, unit: str) -> int | None:
    if not docs:
        return None
    if rng.random() < 0.5:
        # The same unit recycling its own piece from the last four weeks.
        lo = bisect_left([d.at for d in docs[-3000:]], at - timedelta(days=SAME_UNIT_DAYS - 1))
        base = max(0, len(docs) - 3000)
        own = [base + j for j, d in enumerate(docs[base + lo :], start=lo) if d.unit_id == unit]
        if own:
            return rng.choice(own)
    # Another unit's piece from the last week, its name swapped in.
    lo = bisect_left([d.at for d in docs[-1000:]], at - timedelta(days=OTHER_UNIT_DAYS - 1))
    base = max(0, len(docs) - 1000)
    others = [base + j for j, d in enumerate(docs[base + lo :], start=lo) if d.unit_id != unit]
    return rng.choice(others) if others else None


def _brute_force(doc: Doc, window: deque[tuple[Doc, str, frozenset[str]]]) -> tuple[str, float] | None:
    """Exhaustive exact Jaccard against every item in the window rule (the baseline)."""
    content = normalise(doc.title, doc.text)
    grams = shingles(content)
    best: tuple[str, float] | None = None
    for other, other_content, other_grams in window:
        age = doc.at - other.at
        same = other.unit_id == doc.unit_id
        if age > timedelta(days=SAME_UNIT_DAYS if same else OTHER_UNIT_DAYS):
            continue
        if len(grams) < MIN_SHINGLES or len(other_grams) < MIN_SHINGLES:
            sim = 1.0 if content == other_content else 0.0
        else:
            sim = jaccard(grams, other_grams)
        if sim >= DEFAULT_THRESHOLD and (best is None or sim > best[1]):
            best = (other.item_id, sim)
    return best


def lsh_recall_near_threshold(docs: list[Doc], pairs: int, seed: int) -> dict[str, object]:
    """Recall of the index (LSH bands + estimate filter) on pairs whose exact figure is near the threshold.

    Each pair is an item and a copy with 15–45 characters replaced at random, which puts
    the exact Jaccard around 0.4–0.7; the index holds only the item, so any miss is the index's.
    """
    rng = random.Random(seed)
    above = found = below_found = 0
    for _ in range(pairs):
        doc = rng.choice(docs)
        chars = list(doc.text)
        for _ in range(rng.randint(15, 45)):
            chars[rng.randrange(len(chars))] = chr(rng.randint(0x4E00, 0x9FA5))
        copy = Doc("copy", doc.unit_id, doc.at, doc.title, "".join(chars))
        exact = jaccard(shingles(normalise(doc.title, doc.text)), shingles(normalise(copy.title, copy.text)))
        index = SimilarityIndex()
        index.add(doc)
        hit = index.best_match(copy) is not None
        if exact >= DEFAULT_THRESHOLD:
            above += 1
            found += hit
        else:
            below_found += hit
    return {
        "near_threshold_pairs": pairs,
        "near_threshold_above": above,
        "near_threshold_recall": round(found / above, 4) if above else None,
        "near_threshold_false_flags": below_found,
    }


def run(n_items: int, seed: int) -> dict[str, object]:
    """Generate, replay intake, compare with brute force; returns the figures for docs/performance.md."""
    t0 = time.perf_counter()
    docs, planted = generate(n_items, seed)
    generate_s = time.perf_counter() - t0

    rss_before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    index = SimilarityIndex()
    flagged: dict[str, tuple[str, float]] = {}
    query_s: dict[str, float] = {}
    pruned_day = None
    t0 = time.perf_counter()
    for doc in docs:
        day = doc.at.date()
        if day != pruned_day:
            index.prune(doc.at - timedelta(days=SAME_UNIT_DAYS + 1))
            pruned_day = day
        q0 = time.perf_counter()
        match = index.best_match(doc, same_unit_days=SAME_UNIT_DAYS, other_unit_days=OTHER_UNIT_DAYS)
        query_s[doc.item_id] = time.perf_counter() - q0
        index.add(doc)
        if match is not None:
            flagged[doc.item_id] = (match.other_id, match.similarity)
    intake_s = time.perf_counter() - t0
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    # A planted copy of a copy may legitimately match its grandparent: judge by family.
    def family(item_id: str) -> str:
        while item_id in planted:
            item_id = planted[item_id].source
        return item_id

    true_pos = sum(1 for i, (other, _) in flagged.items() if i in planted and family(i) == family(other))
    precision = true_pos / len(flagged) if flagged else 1.0
    recall = true_pos / len(planted) if planted else 1.0
    planted_sims = sorted(flagged[i][1] for i in planted if i in flagged)

    # Baseline on an evenly spread subset of the same stream, same windows.
    step = max(1, n_items // BASELINE_QUERIES)
    sampled = {d.item_id for d in docs[::step]}
    window: deque[tuple[Doc, str, frozenset[str]]] = deque()
    brute_s = 0.0
    lsh_missed = 0
    brute_hits = 0
    for doc in docs:
        while window and doc.at - window[0][0].at > timedelta(days=SAME_UNIT_DAYS):
            window.popleft()
        if doc.item_id in sampled:
            q0 = time.perf_counter()
            exact = _brute_force(doc, window)
            brute_s += time.perf_counter() - q0
            if exact is not None:
                brute_hits += 1
                got = flagged.get(doc.item_id)
                if got is None or got[1] < exact[1]:
                    lsh_missed += 1
        content = normalise(doc.title, doc.text)
        window.append((doc, content, shingles(content)))
    index_s = sum(query_s[i] for i in sampled)

    near = lsh_recall_near_threshold(docs, min(2000, n_items), seed)

    return {
        "items": n_items,
        "seed": seed,
        "planted": len(planted),
        "flagged": len(flagged),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "min_planted_similarity": round(planted_sims[0], 3) if planted_sims else None,
        "generate_s": round(generate_s, 2),
        "intake_s": round(intake_s, 2),
        "items_per_s": round(n_items / intake_s, 1),
        "query_ms_mean": round(1000 * sum(query_s.values()) / n_items, 3),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "rss_before_intake_mb": round(rss_before_mb, 1),
        "index_items_after_prune": len(index),
        "baseline_queries": len(sampled),
        "baseline_brute_ms_mean": round(1000 * brute_s / len(sampled), 3),
        "baseline_index_ms_mean": round(1000 * index_s / len(sampled), 3),
        "speedup": round(brute_s / index_s, 1) if index_s else None,
        "baseline_exact_hits": brute_hits,
        "lsh_missed_vs_exact": lsh_missed,
        **near,
        "python": platform.python_version(),
        "nproc": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: `python -m bench.similarity_bench [--items N] [--seed S]`, prints JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    json.dump(run(args.items, args.seed), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
