"""雷同 detection (SPEC §2.2): what reviewers see flagged, and what they must not see flagged."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta

import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.similarity_bench import run as run_bench
from mailbot.core.submission.similarity import (
    DEFAULT_THRESHOLD,
    Doc,
    FingerprintError,
    Match,
    SimilarityIndex,
    find_similar,
    fingerprint,
    normalise,
)

# Plausible 政务信息, written for these tests. old_a and old_b are the same topic
# (老旧小区改造) written independently by two districts: they must never be 雷同.
ITEMS: dict[str, tuple[str, str, str]] = {
    "old_a": (
        "越秀区",
        "越秀区“三个聚焦”扎实推进老旧小区改造",
        "今年以来，越秀区坚持民生导向，把老旧小区改造作为城市更新的重要抓手，全年计划改造小区32个、惠及居民1.2万户。"
        "一是聚焦群众需求定方案。改造前逐户入户征求意见，累计召开居民议事会86场，形成“一小区一方案”。"
        "二是聚焦短板弱项抓实施。优先解决管线老化、屋面渗漏、消防通道不畅等问题，同步加装电梯47部、增设充电桩210个。"
        "三是聚焦长效管理建机制。推动成立业主自管小组，引入物业服务企业，建立“改造+管理”一体化机制。"
        "截至9月底，已完工小区24个，群众满意度达96%。",
    ),
    "old_b": (
        "海珠区",
        "海珠区多措并举破解老旧小区改造难题",
        "海珠区围绕“改造一个、带动一片”的目标，统筹推进老旧小区改造工作。该区成立由分管区领导任组长的工作专班，"
        "建立周调度、月通报制度，压实街道属地责任。在资金保障上，积极争取中央和省级补助资金1.8亿元，探索社会资本参与改造的合作模式。"
        "在施工管理上，推行“居民监督员”制度，邀请居民代表全程参与质量监督，切实做到改造过程公开透明。"
        "在成果巩固上，同步完善社区养老、托育、便民市场等配套设施，打造“15分钟便民生活圈”。"
        "目前，全区已开工改造小区41个，完成投资2.3亿元，居民获得感明显提升。",
    ),
    "biz": (
        "市市场监管局",
        "市市场监管局推出“一照通行”改革持续优化营商环境",
        "为进一步降低市场主体准入成本，市市场监管局在全市推行“一照通行”改革，将食品经营、药品零售等12个行业涉及的多项许可事项整合到营业执照上，"
        "实现“一次申请、一网通办、一照通行”。改革实施后，企业申办材料平均压减60%，办理时限由原来的20个工作日压缩至3个工作日以内。"
        "同时，依托政务服务平台上线智能审批系统，对标准化程度高的事项实行“秒批秒办”。"
        "截至目前，全市已有1.6万户市场主体享受改革红利，累计节省办事时间超过10万小时。"
        "下一步，市市场监管局将扩大改革行业范围，推动更多事项纳入“一照通行”。",
    ),
    "flood": (
        "市水务局",
        "市水务局全力做好强降雨防御工作",
        "受台风外围环流影响，8月30日以来我市出现持续强降雨天气，全市平均降雨量达128毫米，最大降雨量出现在白云区钟落潭镇，达312毫米。"
        "市水务局第一时间启动防汛Ⅲ级应急响应，派出6个工作组赴各区督导检查，重点加强对水库、河涌、低洼易涝点和在建工地的巡查值守。"
        "全市共出动抢险人员3200余人次、抽排水设备460台套，转移安置受威胁群众1260人。"
        "截至31日18时，全市未发生人员伤亡，38处内涝积水点已全部消退，城市运行总体平稳有序。",
    ),
    "rural": (
        "从化区",
        "从化区以“党建+产业”推动乡村全面振兴",
        "从化区坚持以党建引领乡村振兴，探索“党支部+合作社+农户”发展模式，推动荔枝、花卉、温泉旅游等特色产业提质增效。"
        "全区221个行政村党组织全部领办或参与领办合作社，带动3.5万户农户增收。"
        "该区还建立“驻村第一书记+乡村工匠”帮扶机制，组织农技专家开展田间课堂180余场，培训新型职业农民5000余人次。"
        "今年上半年，全区农村居民人均可支配收入同比增长7.8%，增速高于城镇居民1.9个百分点，城乡收入差距进一步缩小。",
    ),
    "safety": (
        "市应急管理局",
        "市应急管理局开展安全生产大检查取得阶段性成效",
        "按照省、市关于开展安全生产大检查的部署要求，市应急管理局牵头组织住建、交通、消防等22个部门，"
        "对全市危险化学品、建筑施工、道路交通、城镇燃气等重点行业领域开展拉网式排查整治。"
        "检查采取“四不两直”方式，由专家全程参与，确保查深查透。"
        "截至目前，共检查企业1.4万家次，发现并整改隐患3.1万项，责令停产停业整顿企业63家，立案查处违法行为412宗，罚款2860万元。"
        "下一步，将持续保持高压态势，坚决防范遏制重特大事故发生。",
    ),
    "hotline": (
        "市政务服务数据管理局",
        "12345政务服务便民热线“接诉即办”效能持续提升",
        "今年1至9月，市12345政务服务便民热线共受理群众诉求586万件，按时办结率99.2%，群众满意率93.5%。"
        "热线平台推行“首接负责、限时办结、回访问效”闭环工作机制，对噪声扰民、物业纠纷、欠薪讨薪等高频诉求开展专项治理，"
        "推动解决了一批群众急难愁盼问题。同时，运用大数据分析研判诉求热点，每月形成民情分析报告报送市领导参阅，为科学决策提供参考。",
    ),
    "elderly": (
        "天河区",
        "天河区构建“15分钟养老服务圈”",
        "天河区围绕居家社区养老服务需求，在全区21条街道全覆盖建设综合养老服务中心，布局长者饭堂92个、社区嵌入式养老服务站点156个，"
        "构建起“15分钟养老服务圈”。该区引入专业社会组织运营管理，为辖区老年人提供助餐、助浴、助医、助急等服务，"
        "今年以来累计服务老年人超过48万人次。针对失能失智老人照护难题，推行家庭养老床位建设，已建成家庭养老床位1200张，"
        "让老人在家就能享受专业照护服务。",
    ),
    "jobs": (
        "市人力资源社会保障局",
        "市人力资源社会保障局多渠道稳就业促增收",
        "市人力资源社会保障局把稳就业作为重中之重，全力落实各项援企稳岗政策。今年以来，累计向1.2万家企业发放稳岗返还资金3.6亿元，"
        "发放一次性扩岗补助8900万元。针对高校毕业生、农民工、就业困难人员等重点群体，组织开展“春风行动”“百日千万网络招聘”等专项服务活动320场，"
        "提供岗位45万个。全市城镇新增就业28.6万人，完成年度目标任务的95%，城镇调查失业率控制在5%以内，就业形势保持总体稳定。",
    ),
}

T0 = datetime(2026, 10, 15, 9, 30)
_S2T = opencc.OpenCC("s2t")
_OTHER_UNIT = "荔湾区"


def _sentences(text: str) -> list[str]:
    return re.findall(r"[^。]*。|[^。]+$", text)


def _swap_unit(unit: str, title: str, text: str) -> tuple[str, str]:
    return title.replace(unit, _OTHER_UNIT), text.replace(unit, _OTHER_UNIT)


def _new_opening(unit: str, title: str, text: str) -> tuple[str, str]:
    return title, "为深入贯彻落实市委市政府决策部署，进一步提升工作质效，现将有关情况报告如下。" + "".join(
        _sentences(text)[1:]
    )


def _added_sentence(unit: str, title: str, text: str) -> tuple[str, str]:
    return title, text + "下一步，将认真总结经验做法，持续加大工作力度，推动各项任务落地见效。"


def _chars_changed(unit: str, title: str, text: str) -> tuple[str, str]:
    rng = random.Random(len(text))
    chars = list(text)
    for _ in range(6):
        chars[rng.randrange(len(chars))] = rng.choice("一二三四五六七八九十")
    return title, "".join(chars)


def _reordered(unit: str, title: str, text: str) -> tuple[str, str]:
    parts = _sentences(text)
    middle = parts[1:-1]
    random.Random(7).shuffle(middle)
    return title, "".join([parts[0], *middle, parts[-1]])


def _traditional_fullwidth(unit: str, title: str, text: str) -> tuple[str, str]:
    # Traditional script, full-width digits, other punctuation and stray spaces: the same text to a reader.
    fullwidth = str.maketrans("0123456789%", "０１２３４５６７８９％")
    converted = str(_S2T.convert(text)).translate(fullwidth)
    return str(_S2T.convert(title)), converted.replace("，", ", ").replace("。", ". ").replace("“", "「")


def _new_title(unit: str, title: str, text: str) -> tuple[str, str]:
    return f"关于{unit}相关工作情况的报告", text


VARIANTS = {
    "identical": lambda unit, title, text: (title, text),
    "unit name swapped": _swap_unit,
    "opening sentence replaced": _new_opening,
    "sentence added": _added_sentence,
    "six characters changed": _chars_changed,
    "sentences reordered": _reordered,
    "traditional, full-width, punctuation": _traditional_fullwidth,
    "new title": _new_title,
}


def _doc(item_id: str, key: str, *, unit: str | None = None, at: datetime = T0) -> Doc:
    own_unit, title, text = ITEMS[key]
    return Doc(item_id, own_unit if unit is None else unit, at, title, text)


def _index(*docs: Doc) -> SimilarityIndex:
    index = SimilarityIndex()
    for doc in docs:
        index.add(doc)
    return index


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("key", ITEMS)
def test_reworked_copy_of_an_item_is_flagged(key: str, variant: str) -> None:
    unit, title, text = ITEMS[key]
    original = Doc("2026-0001", unit, T0 - timedelta(days=3), title, text)
    new_title, new_text = VARIANTS[variant](unit, title, text)
    copy = Doc("2026-0002", unit, T0, new_title, new_text)

    match = _index(original).best_match(copy)

    assert match is not None
    assert (match.item_id, match.other_id, match.same_unit) == ("2026-0002", "2026-0001", True)
    assert DEFAULT_THRESHOLD <= match.similarity <= 1.0
    # The index and the exhaustive comparison report the same exact figure.
    assert find_similar(copy, [original]) == [match]


@pytest.mark.parametrize("key", ITEMS)
def test_script_width_and_punctuation_do_not_lower_the_figure(key: str) -> None:
    unit, title, text = ITEMS[key]
    original = Doc("2026-0001", unit, T0 - timedelta(days=1), title, text)
    copy = Doc("2026-0002", unit, T0, *_traditional_fullwidth(unit, title, text))
    match = _index(original).best_match(copy)
    assert match is not None and match.similarity == 1.0


def test_different_items_are_never_flagged_even_on_the_same_topic() -> None:
    # Everything from one unit on one day: the widest window, so only the text decides.
    docs = [_doc(f"2026-{i:04d}", key, unit="越秀区") for i, key in enumerate(ITEMS)]
    index = _index(*docs)
    for doc in docs:
        assert index.best_match(doc) is None
        assert find_similar(doc, docs, threshold=0.1) == []


def test_two_districts_reports_on_old_housing_are_far_below_the_threshold() -> None:
    a = _doc("2026-0001", "old_a", at=T0 - timedelta(days=1))
    b = _doc("2026-0002", "old_b", unit="越秀区")
    assert find_similar(b, [a], threshold=0.05) == []


SAME, OTHER = "越秀区", "海珠区"


@pytest.mark.parametrize(
    ("earlier_unit", "days_back", "flagged"),
    [
        (SAME, 29, True),
        (SAME, 30, True),
        (SAME, 31, False),
        (OTHER, 6, True),
        (OTHER, 7, True),
        (OTHER, 8, False),
        (SAME, -1, False),  # a later item is never the one resembled
        (OTHER, -1, False),
        (SAME, 0, True),
    ],
)
def test_window_rule(earlier_unit: str, days_back: int, flagged: bool) -> None:
    earlier = _doc("2026-0001", "old_a", unit=earlier_unit, at=T0 - timedelta(days=days_back))
    new = _doc("2026-0002", "old_a", unit=SAME)

    match = _index(earlier).best_match(new)

    assert (match is not None) == flagged
    assert (find_similar(new, [earlier]) != []) == flagged
    if match is not None:
        assert match.same_unit == (earlier_unit == SAME)


def test_unknown_unit_is_judged_by_the_other_unit_window() -> None:
    earlier = _doc("2026-0001", "biz", unit="", at=T0 - timedelta(days=10))
    earlier = Doc(earlier.item_id, None, earlier.at, earlier.title, earlier.text)
    new = Doc("2026-0002", None, T0, earlier.title, earlier.text)
    assert _index(earlier).best_match(new) is None
    recent = Doc("2026-0003", None, T0 - timedelta(days=2), earlier.title, earlier.text)
    match = _index(earlier, recent).best_match(new)
    assert match is not None and match.other_id == "2026-0003" and not match.same_unit


def test_windows_are_configurable() -> None:
    earlier = _doc("2026-0001", "flood", at=T0 - timedelta(days=40))
    new = _doc("2026-0002", "flood")
    index = _index(earlier)
    assert index.best_match(new) is None
    assert index.best_match(new, same_unit_days=45) is not None


def test_best_match_is_the_most_similar_of_several() -> None:
    unit, title, text = ITEMS["safety"]
    far = Doc("2026-0001", unit, T0 - timedelta(days=5), *_new_opening(unit, title, text))
    near = Doc("2026-0002", unit, T0 - timedelta(days=20), *_chars_changed(unit, title, text))
    unrelated = _doc("2026-0003", "jobs", unit=unit, at=T0 - timedelta(days=1))
    new = Doc("2026-0004", unit, T0, title, text)

    index = _index(far, near, unrelated)
    match = index.best_match(new)
    everything = index.matches(new)

    assert match is not None and match.other_id == "2026-0002"
    assert [m.other_id for m in everything] == ["2026-0002", "2026-0001"]
    assert everything[0].similarity > everything[1].similarity
    assert find_similar(new, [far, near, unrelated]) == everything


def test_equal_copies_prefer_the_same_unit_then_the_most_recent() -> None:
    unit, title, text = ITEMS["rural"]
    other_unit = Doc("2026-0001", "白云区", T0 - timedelta(days=1), title, text)
    own_old = Doc("2026-0002", unit, T0 - timedelta(days=20), title, text)
    own_recent = Doc("2026-0003", unit, T0 - timedelta(days=10), title, text)
    new = Doc("2026-0004", unit, T0, title, text)
    match = _index(other_unit, own_old, own_recent).best_match(new)
    assert match == Match("2026-0004", "2026-0003", 1.0, True)


def test_threshold_is_inclusive() -> None:
    unit, title, text = ITEMS["elderly"]
    earlier = Doc("2026-0001", unit, T0 - timedelta(days=1), title, text)
    new = Doc("2026-0002", unit, T0, *_new_opening(unit, title, text))
    figure = find_similar(new, [earlier], threshold=0.01)[0].similarity
    index = _index(earlier)

    assert 0.3 < figure < 0.95
    assert index.best_match(new, threshold=figure) is not None
    assert index.best_match(new, threshold=min(1.0, figure + 1e-9)) is None
    assert find_similar(new, [earlier], threshold=min(1.0, figure + 1e-9)) == []


@pytest.mark.parametrize("threshold", [0.0, -0.1, 1.01])
def test_threshold_outside_zero_to_one_is_refused(threshold: float) -> None:
    doc = _doc("2026-0001", "biz")
    with pytest.raises(ValueError):
        SimilarityIndex().best_match(doc, threshold=threshold)
    with pytest.raises(ValueError):
        find_similar(doc, [], threshold=threshold)


@pytest.mark.parametrize(
    ("earlier", "new", "flagged"),
    [
        ("关于做好防汛工作的通知", "关于做好防汛工作的报告", False),
        ("关于做好防汛工作的通知", "關於做好防汛工作的通知。", True),
        ("越秀区老旧小区改造情况", "越秀区老旧小区改造情况", True),
        ("", "", False),
        ("！！！", "！！！", False),
    ],
)
def test_short_title_only_items_match_only_when_identical(earlier: str, new: str, flagged: bool) -> None:
    a = Doc("2026-0001", "越秀区", T0 - timedelta(days=1), earlier, "")
    b = Doc("2026-0002", "越秀区", T0, new, "")
    match = _index(a).best_match(b, threshold=0.1)
    assert (match is not None) == flagged
    assert (find_similar(b, [a], threshold=0.1) != []) == flagged
    if match is not None:
        assert match.similarity == 1.0


def test_short_item_never_matches_a_long_one_containing_it() -> None:
    unit, _title, text = ITEMS["hotline"]
    long_doc = Doc("2026-0001", unit, T0 - timedelta(days=1), "12345热线效能提升", text)
    short_doc = Doc("2026-0002", unit, T0, "12345热线效能提升", "")
    assert _index(long_doc).best_match(short_doc, threshold=0.01) is None


def test_fingerprint_rebuilds_the_same_index() -> None:
    docs = [_doc(f"2026-{i:04d}", key, at=T0 - timedelta(days=i)) for i, key in enumerate(ITEMS, start=1)]
    from_docs = _index(*docs)
    from_fingerprints = SimilarityIndex()
    for doc in docs:
        fp = fingerprint(doc.title, doc.text)
        assert isinstance(fp, bytes)
        assert len(fp) <= 1 + 2 * len(doc.title + doc.text)  # about 2 bytes a character
        from_fingerprints.add_fingerprint(doc.item_id, doc.unit_id, doc.at, fp)

    for key in ITEMS:
        unit, title, text = ITEMS[key]
        for variant in VARIANTS.values():
            new = Doc("2026-9999", unit, T0, *variant(unit, title, text))
            assert from_fingerprints.best_match(new) == from_docs.best_match(new)


@pytest.mark.parametrize("bad", [b"", b"\x02abcd", b"\x01\x00", b"\x01\x00\xd8\x00\x00"])
def test_unreadable_fingerprint_is_a_typed_error(bad: bytes) -> None:
    with pytest.raises(FingerprintError):
        SimilarityIndex().add_fingerprint("2026-0001", "越秀区", T0, bad)


def test_prune_forgets_old_items_and_keeps_recent_ones() -> None:
    old = _doc("2026-0001", "biz", at=T0 - timedelta(days=40))
    recent = _doc("2026-0002", "flood", at=T0 - timedelta(days=2))
    index = _index(old, recent)

    assert index.prune(T0 - timedelta(days=31)) == 1
    assert len(index) == 1
    assert index.best_match(_doc("2026-0003", "biz"), same_unit_days=60) is None
    assert index.best_match(_doc("2026-0004", "flood")) is not None


def test_adding_an_item_again_replaces_it() -> None:
    index = _index(_doc("2026-0001", "biz", at=T0 - timedelta(days=1)))
    corrected = _doc("2026-0001", "jobs", unit="市市场监管局", at=T0 - timedelta(days=1))
    index.add(corrected)
    assert len(index) == 1
    assert index.best_match(_doc("2026-0002", "biz")) is None
    assert index.best_match(_doc("2026-0003", "jobs", unit="市市场监管局")) is not None


def test_an_item_never_matches_itself() -> None:
    doc = _doc("2026-0001", "old_a")
    assert _index(doc).best_match(doc) is None
    assert find_similar(doc, [doc]) == []


def test_normalise_folds_script_width_and_drops_punctuation() -> None:
    assert normalise("關於　ＡＢＣ", "第１２條，“規定”。\n") == normalise("关于abc", "第12条规定")
    assert normalise("关于abc", "第12条规定") == "关于abc第12条规定"


_text = st.text(
    alphabet=st.one_of(
        st.characters(),  # surrogates too: undecodable bytes must not crash intake
        st.sampled_from("老旧小区改造工作推进群众满意度提升，。“”、１２３"),
    ),
    max_size=400,
)


@settings(max_examples=150, deadline=None)
@given(title=_text, text=_text, other_title=_text, other_text=_text)
def test_arbitrary_text_never_raises(title: str, text: str, other_title: str, other_text: str) -> None:
    earlier = Doc("2026-0001", "越秀区", T0 - timedelta(days=1), other_title, other_text)
    new = Doc("2026-0002", "越秀区", T0, title, text)
    index = SimilarityIndex()
    index.add_fingerprint(earlier.item_id, earlier.unit_id, earlier.at, fingerprint(other_title, other_text))
    for match in [index.best_match(new, threshold=0.01), *find_similar(new, [earlier], threshold=0.01)]:
        if match is not None:
            assert 0.01 <= match.similarity <= 1.0


@settings(max_examples=150, deadline=None)
@given(title=_text, text=_text)
def test_an_item_is_fully_similar_to_its_copy(title: str, text: str) -> None:
    earlier = Doc("2026-0001", "越秀区", T0 - timedelta(days=1), title, text)
    copy = Doc("2026-0002", "越秀区", T0, title, text)
    match = _index(earlier).best_match(copy, threshold=1.0)
    if normalise(title, text):
        assert match == Match("2026-0002", "2026-0001", 1.0, True)
    else:
        assert match is None  # nothing left to compare: punctuation only


def test_benchmark_runs_and_finds_the_planted_duplicates() -> None:
    figures = run_bench(300, 3)
    assert figures["planted"] == 7
    assert figures["recall"] == 1.0
    assert figures["precision"] == 1.0
    assert figures["lsh_missed_vs_exact"] == 0
