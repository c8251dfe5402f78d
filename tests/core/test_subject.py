"""Submission subjects as officers really type them (SPEC §2.1)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailbot.core.submission.subject import Fields, SubjectInfo, find_item_ref, parse_subject, strip_prefixes

TODAY = date(2026, 11, 10)
D3 = date(2026, 11, 3)

# The complete field set most rows share.
YX = {"unit": "越秀区政府", "signer": "张伟", "reporter": "李娜", "phone": "13800138000"}
YX_LABELLED = "单位：越秀区政府；签发人：张伟；报送人：李娜；电话：13800138000"


def F(**kw: Any) -> Fields:
    return Fields(**kw)


# (subject, expected fields, expected tag attributes other than the defaults)
CASES: list[tuple[str, Fields, dict[str, Any]]] = [
    # --- labelled, every alias ---------------------------------------------------------
    (
        "标题：越秀区开展汛前安全隐患大排查；单位：越秀区政府；签发人：张伟；报送人：李娜；电话：13800138000；日期：2026-11-03",
        F(title="越秀区开展汛前安全隐患大排查", **YX, date=D3),
        {},
    ),
    (
        "题目:市发改委召开重点项目建设推进会;报送单位:市发改委;签发:陈明;信息员:刘洋;联系电话:020-83123456;报送日期:2026.11.4",
        F(
            title="市发改委召开重点项目建设推进会",
            unit="市发改委",
            signer="陈明",
            reporter="刘洋",
            phone="020-83123456",
            date=date(2026, 11, 4),
        ),
        {},
    ),
    (
        "信息标题：海珠区推进“厕所革命”成效明显｜单位名称：海珠区政府｜签发领导：黄志强｜撰稿人：周敏｜手机：139 2233 4455｜时间：2026年11月5日",
        F(
            title="海珠区推进“厕所革命”成效明显",
            unit="海珠区政府",
            signer="黄志强",
            reporter="周敏",
            phone="139 2233 4455",
            date=date(2026, 11, 5),
        ),
        {},
    ),
    (
        "标题：天河区新增3家市级重点实验室|单位：天河区政府|签发人：吴刚|撰稿：郑丽|电话号码：(020)38623456|日期：11月6日",
        F(
            title="天河区新增3家市级重点实验室",
            unit="天河区政府",
            signer="吴刚",
            reporter="郑丽",
            phone="(020)38623456",
            date=date(2026, 11, 6),
        ),
        {},
    ),
    (
        "标题：市公安局破获一起特大电信网络诈骗案；单位：市公安局；签发人：赵军；联系人：孙芳；电话：020-83118888转801",
        F(
            title="市公安局破获一起特大电信网络诈骗案",
            unit="市公安局",
            signer="赵军",
            reporter="孙芳",
            phone="020-83118888转801",
        ),
        {},
    ),
    (
        "标题：市民政局启动寒冬送温暖活动；单位：市民政局；签发人：王建；报送人：陈静；联系方式：13800001234",
        F(
            title="市民政局启动寒冬送温暖活动",
            unit="市民政局",
            signer="王建",
            reporter="陈静",
            phone="13800001234",
        ),
        {},
    ),
    (
        "标题：南沙区推进跨境贸易便利化；单位：南沙区政府；审签：许强；拟稿人：林慧；手机号码：13811112222",
        F(
            title="南沙区推进跨境贸易便利化",
            unit="南沙区政府",
            signer="许强",
            reporter="林慧",
            phone="13811112222",
        ),
        {},
    ),
    # --- Traditional Chinese --------------------------------------------------------------
    (
        "標題：關於荔灣區推進老舊小區微改造的情況；單位：荔灣區政府；簽發人：陳志明；報送人：黃麗華；聯繫電話：020-81234567；日期：2026年11月3日",
        F(
            title="關於荔灣區推進老舊小區微改造的情況",
            unit="荔灣區政府",
            signer="陳志明",
            reporter="黃麗華",
            phone="020-81234567",
            date=D3,
        ),
        {},
    ),
    (
        "標題：白雲區開展冬季消防安全大檢查；報送單位：白雲區政府；簽發：馮建國；撰稿人：何曉東；手機：13712345678",
        F(
            title="白雲區開展冬季消防安全大檢查",
            unit="白雲區政府",
            signer="馮建國",
            reporter="何曉東",
            phone="13712345678",
        ),
        {},
    ),
    (
        "題目：市政協辦公廳召開提案辦理協調會；單位：市政協辦公廳；簽發領導：羅軍；資訊員：方圓；電話：020-83556677",
        F(
            title="市政協辦公廳召開提案辦理協調會",
            unit="市政協辦公廳",
            signer="羅軍",
            reporter="方圓",
            phone="020-83556677",
        ),
        {},
    ),
    # --- widths, spaces, separators ---------------------------------------------------------
    (
        "标题：　番禺区举办2026年政务信息培训班　；单位：　番禺区政府；签发人： 梁辉 ；报送人：罗琳 ；电话： 13600001111",
        F(
            title="番禺区举办2026年政务信息培训班",
            unit="番禺区政府",
            signer="梁辉",
            reporter="罗琳",
            phone="13600001111",
        ),
        {},
    ),
    (
        "标题:广州海关查获走私冻品120吨;单位:广州海关;签发人:黄海;报送人:何丽;电话:13922334455",
        F(
            title="广州海关查获走私冻品120吨",
            unit="广州海关",
            signer="黄海",
            reporter="何丽",
            phone="13922334455",
        ),
        {},
    ),
    (
        "标题:市民政局开展养老机构安全检查, 单位:市民政局, 签发人:王建, 报送人:陈静, 电话:13800001234",
        F(
            title="市民政局开展养老机构安全检查",
            unit="市民政局",
            signer="王建",
            reporter="陈静",
            phone="13800001234",
        ),
        {},
    ),
    (
        "标题：市财政局下达专项资金3.2亿元 单位：市财政局 签发人：钟明 报送人：许丽 电话：020-83125678",
        F(
            title="市财政局下达专项资金3.2亿元",
            unit="市财政局",
            signer="钟明",
            reporter="许丽",
            phone="020-83125678",
        ),
        {},
    ),
    (
        "单位：市教育局；标题：全市中小学开展防溺水安全教育；报送人：谢芳；签发人：林国栋；电话：13511112222",
        F(
            title="全市中小学开展防溺水安全教育",
            unit="市教育局",
            signer="林国栋",
            reporter="谢芳",
            phone="13511112222",
        ),
        {},
    ),
    (
        "标题：团市委开展青年志愿服务月活动；单位：团市委；签发人：马骏；联系人：叶青 13700137000",
        F(
            title="团市委开展青年志愿服务月活动",
            unit="团市委",
            signer="马骏",
            reporter="叶青",
            phone="13700137000",
        ),
        {},
    ),
    (
        "标题：市统计局发布前三季度经济运行情况；单位：市统计局；签发人：邓强；报送人：潘云；电话：138 0013 8000；日期：二〇二六年十一月三日",
        F(
            title="市统计局发布前三季度经济运行情况",
            unit="市统计局",
            signer="邓强",
            reporter="潘云",
            phone="138 0013 8000",
            date=D3,
        ),
        {},
    ),
    (
        f"标题：越秀区召开安全生产工作会议；{YX_LABELLED}；日期：2026年11月3日（星期二）",
        F(title="越秀区召开安全生产工作会议", **YX, date=D3),
        {},
    ),
    # --- titles with punctuation ------------------------------------------------------------
    (
        "标题：贯彻《广州市政务信息工作实施方案》，提升信息质量：市交委的做法；单位：市交委；签发人：曾强；报送人：邓敏；电话：020-83334444",
        F(
            title="贯彻《广州市政务信息工作实施方案》，提升信息质量：市交委的做法",
            unit="市交委",
            signer="曾强",
            reporter="邓敏",
            phone="020-83334444",
        ),
        {},
    ),
    (
        "标题：各单位：务必做好寒潮防御工作；单位：市气象局；签发人：严冬；报送人：朱琳；电话：020-87654321",
        F(
            title="各单位：务必做好寒潮防御工作",
            unit="市气象局",
            signer="严冬",
            reporter="朱琳",
            phone="020-87654321",
        ),
        {},
    ),
    (
        '标题："一网通办"再提速, 市政务服务事项95%可网上办理；单位：市信息中心；签发人：骆飞；报送人：甘露；电话：13800005678',
        F(
            title='"一网通办"再提速, 市政务服务事项95%可网上办理',
            unit="市信息中心",
            signer="骆飞",
            reporter="甘露",
            phone="13800005678",
        ),
        {},
    ),
    # --- missing fields -----------------------------------------------------------------------
    (
        "标题：市统计局发布10月份居民消费价格指数；单位：市统计局",
        F(title="市统计局发布10月份居民消费价格指数", unit="市统计局"),
        {},
    ),
    (
        "单位：市法院；签发人：欧阳明；报送人：区静；电话：020-83000000",
        F(unit="市法院", signer="欧阳明", reporter="区静", phone="020-83000000"),
        {},
    ),
    (
        "标题：市法院发布知识产权审判白皮书；单位：市法院；日期：2026-02-30",
        F(title="市法院发布知识产权审判白皮书", unit="市法院"),
        {},
    ),
    (
        "标题：市消委会发布双十一消费提示；单位：；签发人：；报送人：关丽",
        F(title="市消委会发布双十一消费提示", reporter="关丽"),
        {},
    ),
    # --- mixed labelled and unlabelled ---------------------------------------------------------
    (
        f"越秀区召开2026年第四季度安全生产工作会议；{YX_LABELLED}",
        F(title="越秀区召开2026年第四季度安全生产工作会议", **YX),
        {},
    ),
    (
        "标题：市环保局通报10月空气质量状况；单位：市环保局；签发人：邱平；报送人：彭丽；13800138000",
        F(
            title="市环保局通报10月空气质量状况",
            unit="市环保局",
            signer="邱平",
            reporter="彭丽",
            phone="13800138000",
        ),
        {},
    ),
    (
        "标题：市科技局认定一批新型研发机构；单位：市科技局；2026年11月2日",
        F(title="市科技局认定一批新型研发机构", unit="市科技局", date=date(2026, 11, 2)),
        {},
    ),
    (
        "关于做好冬季防火工作的情况 单位：市公安局消防局 报送人：卢刚 13800138000",
        F(title="关于做好冬季防火工作的情况", unit="市公安局消防局", reporter="卢刚", phone="13800138000"),
        {},
    ),
    # --- positional ---------------------------------------------------------------------------
    (
        "关于荔湾区推进老旧小区改造的报告｜荔湾区政府｜王五｜赵六｜020-81234567｜2026-11-03",
        F(
            title="关于荔湾区推进老旧小区改造的报告",
            unit="荔湾区政府",
            signer="王五",
            reporter="赵六",
            phone="020-81234567",
            date=D3,
        ),
        {},
    ),
    (
        "市科技局举办科技成果转化对接会|市科技局|钱进|冯雪|13612345678|2026/11/2",
        F(
            title="市科技局举办科技成果转化对接会",
            unit="市科技局",
            signer="钱进",
            reporter="冯雪",
            phone="13612345678",
            date=date(2026, 11, 2),
        ),
        {},
    ),
    (
        "南沙区推动自贸区制度创新 | 南沙区政府 | 许强 | 林慧 | 13811112222 | 2026.11.1",
        F(
            title="南沙区推动自贸区制度创新",
            unit="南沙区政府",
            signer="许强",
            reporter="林慧",
            phone="13811112222",
            date=date(2026, 11, 1),
        ),
        {},
    ),
    (
        "增城市加快荔枝产业升级｜增城市政府｜13900001111｜刘斌｜陈芳",
        F(
            title="增城市加快荔枝产业升级",
            unit="增城市政府",
            signer="刘斌",
            reporter="陈芳",
            phone="13900001111",
        ),
        {},
    ),
    (
        "2026年11月3日｜从化市推进乡村振兴示范带建设｜从化市政府｜温华｜黎敏｜020-87921234",
        F(
            title="从化市推进乡村振兴示范带建设",
            unit="从化市政府",
            signer="温华",
            reporter="黎敏",
            phone="020-87921234",
            date=D3,
        ),
        {},
    ),
    (
        "市气象局发布寒潮蓝色预警｜市气象局",
        F(title="市气象局发布寒潮蓝色预警", unit="市气象局"),
        {},
    ),
    (
        "市疾病预防控制中心提醒市民接种流感疫苗｜市疾病预防控制中心｜高峰",
        F(title="市疾病预防控制中心提醒市民接种流感疫苗", unit="市疾病预防控制中心", signer="高峰"),
        {},
    ),
    (
        "广药集团推进中医药传承创新||何军|徐丽|13822223333",
        F(title="广药集团推进中医药传承创新", signer="何军", reporter="徐丽", phone="13822223333"),
        {},
    ),
    (
        "廣州日報社舉辦媒體融合發展論壇｜廣州日報社｜蘇明｜鄭慧｜020-81919191｜二〇二六年十一月三日",
        F(
            title="廣州日報社舉辦媒體融合發展論壇",
            unit="廣州日報社",
            signer="蘇明",
            reporter="鄭慧",
            phone="020-81919191",
            date=D3,
        ),
        {},
    ),
    (
        "天河区：“智慧社区”建设，让群众少跑腿 | 天河区政府 | 吴刚 | 郑丽 | 38623456",
        F(
            title="天河区：“智慧社区”建设，让群众少跑腿",
            unit="天河区政府",
            signer="吴刚",
            reporter="郑丽",
            phone="38623456",
        ),
        {},
    ),
    (
        "市政协办公厅组织学习《中国人民政治协商会议章程》|市政协办公厅|罗军|方圆|020-83556677",
        F(
            title="市政协办公厅组织学习《中国人民政治协商会议章程》",
            unit="市政协办公厅",
            signer="罗军",
            reporter="方圆",
            phone="020-83556677",
        ),
        {},
    ),
    (
        "市地铁总公司开通三条新线｜市地铁总公司｜钟山｜古月｜13800138000｜二○○五年十二月二十日",
        F(
            title="市地铁总公司开通三条新线",
            unit="市地铁总公司",
            signer="钟山",
            reporter="古月",
            phone="13800138000",
            date=date(2005, 12, 20),
        ),
        {},
    ),
    (
        "广州大学举办粤港澳高校合作论坛｜广州大学｜唐宁｜宋雨｜020-39366000-801｜11月3日",
        F(
            title="广州大学举办粤港澳高校合作论坛",
            unit="广州大学",
            signer="唐宁",
            reporter="宋雨",
            phone="020-39366000-801",
            date=D3,
        ),
        {},
    ),
    (
        "市交委优化公交线网 ｜ 市交委 ｜ 曾强 ｜ 邓敏 ｜ （020）8312 3456",
        F(
            title="市交委优化公交线网",
            unit="市交委",
            signer="曾强",
            reporter="邓敏",
            phone="（020）8312 3456",
        ),
        {},
    ),
    (
        "花都区推进空港经济区建设｜花都区政府｜骆飞｜甘露｜１３８００１３８０００",
        F(
            title="花都区推进空港经济区建设",
            unit="花都区政府",
            signer="骆飞",
            reporter="甘露",
            phone="１３８００１３８０００",
        ),
        {},
    ),
    (
        "2026广州马拉松鸣枪开跑，时间：12月8日｜市体育局｜杜刚｜萧红｜13800138000",
        F(
            title="2026广州马拉松鸣枪开跑，时间：12月8日",
            unit="市体育局",
            signer="杜刚",
            reporter="萧红",
            phone="13800138000",
        ),
        {},
    ),
    (
        "市体育局举办全民健身运动会｜单位：市体育局｜签发人：杜刚｜报送人：萧红｜电话：13800138000",
        F(
            title="市体育局举办全民健身运动会",
            unit="市体育局",
            signer="杜刚",
            reporter="萧红",
            phone="13800138000",
        ),
        {},
    ),
    # --- just a title ----------------------------------------------------------------------------
    ("关于做好2026年冬春季森林防火工作的情况报告", F(title="关于做好2026年冬春季森林防火工作的情况报告"), {}),
    (
        "越秀区：加强“三小场所”消防安全整治，确保辖区平安",
        F(title="越秀区：加强“三小场所”消防安全整治，确保辖区平安"),
        {},
    ),
    ("市交委：春运期间将加开公交夜班线路 20 条", F(title="市交委：春运期间将加开公交夜班线路 20 条"), {}),
    (
        "[会议通知] 关于召开全市政务信息工作会议的通知",
        F(title="[会议通知] 关于召开全市政务信息工作会议的通知"),
        {},
    ),
    ("【转载】人民日报点赞广州垃圾分类工作", F(title="【转载】人民日报点赞广州垃圾分类工作"), {}),
    ("市商业银行支持小微企业；成效明显", F(title="市商业银行支持小微企业；成效明显"), {}),
    ("RE100倡议：广州港集团推进绿色港口建设", F(title="RE100倡议：广州港集团推进绿色港口建设"), {}),
    ("", F(), {}),
    # --- tags --------------------------------------------------------------------------------------
    (
        "【紧急】白云区一在建工地发生坍塌事故｜白云区政府｜冯建国｜何晓东｜13712345678",
        F(
            title="白云区一在建工地发生坍塌事故",
            unit="白云区政府",
            signer="冯建国",
            reporter="何晓东",
            phone="13712345678",
        ),
        {"urgent": True, "tags": ("紧急",)},
    ),
    (
        f"【突发】标题：海珠区一居民楼发生火灾无人员伤亡；{YX_LABELLED}",
        F(title="海珠区一居民楼发生火灾无人员伤亡", **YX),
        {"urgent": True, "tags": ("突发",)},
    ),
    (
        f"[紧急] 标题：珠江广州段出现超警戒水位；{YX_LABELLED}",
        F(title="珠江广州段出现超警戒水位", **YX),
        {"urgent": True, "tags": ("紧急",)},
    ),
    (
        f"［紧急］标题：强台风正面登陆我市；{YX_LABELLED}",
        F(title="强台风正面登陆我市", **YX),
        {"urgent": True, "tags": ("紧急",)},
    ),
    (
        "【緊急】標題：白雲機場航班大面積延誤；單位：白雲區政府",
        F(title="白雲機場航班大面積延誤", unit="白雲區政府"),
        {"urgent": True, "tags": ("紧急",)},
    ),
    (
        f"【约稿#3】标题：越秀区优化营商环境的主要做法；{YX_LABELLED}",
        F(title="越秀区优化营商环境的主要做法", **YX),
        {"yuegao": 3, "yuegao_tagged": True, "tags": ("约稿#3",)},
    ),
    (
        f"【约稿】标题：越秀区推进基层治理现代化的探索；{YX_LABELLED}",
        F(title="越秀区推进基层治理现代化的探索", **YX),
        {"yuegao_tagged": True, "tags": ("约稿",)},
    ),
    (
        "【约稿＃12】市发改委关于重大项目投资进展的报告|市发改委|陈明|刘洋|020-83123456",
        F(
            title="市发改委关于重大项目投资进展的报告",
            unit="市发改委",
            signer="陈明",
            reporter="刘洋",
            phone="020-83123456",
        ),
        {"yuegao": 12, "yuegao_tagged": True, "tags": ("约稿#12",)},
    ),
    (
        f"【更正#2026-0012】标题：越秀区开展汛前安全隐患大排查（更正稿）；{YX_LABELLED}",
        F(title="越秀区开展汛前安全隐患大排查（更正稿）", **YX),
        {"correction_of": "2026-0012", "tags": ("更正#2026-0012",)},
    ),
    (
        "【更正#2026-12】市公安局开展“平安广州”专项行动 | 市公安局 | 13800138000 | 林峰 | 周敏",
        F(
            title="市公安局开展“平安广州”专项行动",
            unit="市公安局",
            signer="林峰",
            reporter="周敏",
            phone="13800138000",
        ),
        {"correction_of": "2026-0012", "tags": ("更正#2026-12",)},
    ),
    (
        f"【动态】标题：越秀区举办非遗文化周；{YX_LABELLED}",
        F(title="越秀区举办非遗文化周", **YX),
        {"category": "动态", "tags": ("动态",)},
    ),
    (
        f"【综合】【紧急】标题：越秀区应对强降雨情况综述；{YX_LABELLED}",
        F(title="越秀区应对强降雨情况综述", **YX),
        {"urgent": True, "category": "综合", "tags": ("综合", "紧急")},
    ),
    (
        "【調研】關於市屬國有企業改革的調研報告｜市國資委｜區明｜黎芳｜020-83000001",
        F(
            title="關於市屬國有企業改革的調研報告",
            unit="市國資委",
            signer="區明",
            reporter="黎芳",
            phone="020-83000001",
        ),
        {"category": "调研", "tags": ("调研",)},
    ),
    (
        "【约稿 # 7】【紧急、敏感】市公安局关于节日期间社会治安形势的分析｜市公安局",
        F(title="市公安局关于节日期间社会治安形势的分析", unit="市公安局"),
        {
            "urgent": True,
            "category": "敏感",
            "yuegao": 7,
            "yuegao_tagged": True,
            "tags": ("约稿#7", "紧急", "敏感"),
        },
    ),
    (
        "【问题类】标题：部分老旧电梯存在安全隐患；单位：市质监局",
        F(title="部分老旧电梯存在安全隐患", unit="市质监局"),
        {"category": "问题", "tags": ("问题类",)},
    ),
    (
        f"【敏感】【突发】【约稿#5】标题：我市某区发生群体性聚集事件；{YX_LABELLED}",
        F(title="我市某区发生群体性聚集事件", **YX),
        {
            "urgent": True,
            "category": "敏感",
            "yuegao": 5,
            "yuegao_tagged": True,
            "tags": ("敏感", "突发", "约稿#5"),
        },
    ),
    (
        f"【动态】【约稿#3】【紧急】【更正#2026-0012】 标题：越秀区全力做好防汛工作；{YX_LABELLED}",
        F(title="越秀区全力做好防汛工作", **YX),
        {
            "urgent": True,
            "category": "动态",
            "yuegao": 3,
            "yuegao_tagged": True,
            "correction_of": "2026-0012",
            "tags": ("动态", "约稿#3", "紧急", "更正#2026-0012"),
        },
    ),
    (
        "【紧急】 [会议通知] 全市防汛工作紧急会议情况",
        F(title="[会议通知] 全市防汛工作紧急会议情况"),
        {"urgent": True, "tags": ("紧急",)},
    ),
    (
        "[紧急 动态] 市应急管理局启动防风Ⅳ级应急响应",
        F(title="市应急管理局启动防风Ⅳ级应急响应"),
        {"urgent": True, "category": "动态", "tags": ("紧急", "动态")},
    ),
    ("【紧急】", F(), {"urgent": True, "tags": ("紧急",)}),
    # --- reply and forward prefixes ---------------------------------------------------------------
    (
        f"Re: 回复：Fw: 【紧急】标题：越秀区处置一起燃气泄漏事故；{YX_LABELLED}",
        F(title="越秀区处置一起燃气泄漏事故", **YX),
        {"urgent": True, "tags": ("紧急",)},
    ),
    (
        "RE：RE：转发：标题：市交委发布国庆假期出行指引；单位：市交委",
        F(title="市交委发布国庆假期出行指引", unit="市交委"),
        {},
    ),
    ("Fwd: 答复: 市环保局部署秋冬季大气污染防治", F(title="市环保局部署秋冬季大气污染防治"), {}),
    (
        "回覆：轉寄：【緊急】荔灣區啟動防汛Ⅳ級應急響應｜荔灣區政府｜陳志明｜黃麗華｜020-81234567",
        F(
            title="荔灣區啟動防汛Ⅳ級應急響應",
            unit="荔灣區政府",
            signer="陳志明",
            reporter="黃麗華",
            phone="020-81234567",
        ),
        {"urgent": True, "tags": ("紧急",)},
    ),
    ("Re[2]: 市统计局发布统计公报", F(title="市统计局发布统计公报"), {}),
    (
        "转发: [动态] 市统计局发布前三季度数据｜市统计局｜邓强｜潘云｜13800138000",
        F(
            title="市统计局发布前三季度数据",
            unit="市统计局",
            signer="邓强",
            reporter="潘云",
            phone="13800138000",
        ),
        {"category": "动态", "tags": ("动态",)},
    ),
    (
        "FW：回复: 标题：广州海关开展打击洋垃圾走私专项行动；单位：广州海关；签发人：黄海；报送人：何丽；电话：13922334455",
        F(
            title="广州海关开展打击洋垃圾走私专项行动",
            unit="广州海关",
            signer="黄海",
            reporter="何丽",
            phone="13922334455",
        ),
        {},
    ),
]


def _expected(subject: str, fields: Fields, tags: dict[str, Any]) -> SubjectInfo:
    return SubjectInfo(fields=fields, raw=subject, **tags)


def test_table_is_big_enough() -> None:
    assert len(CASES) >= 60


@pytest.mark.parametrize(("subject", "fields", "tags"), CASES, ids=[c[0][:30] for c in CASES])
def test_parse_subject(subject: str, fields: Fields, tags: dict[str, Any]) -> None:
    assert parse_subject(subject, TODAY) == _expected(subject, fields, tags)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: 关于防汛", "关于防汛"),
        ("RE：RE： 关于防汛", "关于防汛"),
        ("回复：回覆：答复:答覆: 关于防汛", "关于防汛"),
        ("Fw: FW: Fwd: 转发：轉寄: 关于防汛", "关于防汛"),
        ("re:fwd:【紧急】关于防汛", "【紧急】关于防汛"),
        ("Re[3]: 关于防汛", "关于防汛"),
        ("关于Re: 的说明", "关于Re: 的说明"),
        ("Report: 广州统计", "Report: 广州统计"),
        ("   ", ""),
    ],
)
def test_strip_prefixes(subject: str, expected: str) -> None:
    assert strip_prefixes(subject) == expected


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("[待审#2026-0012] 越秀区开展汛前安全隐患大排查（越秀区政府）", "2026-0012"),
        ("Re: [报送#2026-0012] 越秀区开展汛前安全隐患大排查", "2026-0012"),
        ("回复：［报送＃2026-0345］市发改委", "2026-0345"),
        ("Re: 关于#2026-12的意见", "2026-0012"),
        ("Re: 采用 2026-0012", None),
        ("Re: 越秀区开展汛前安全隐患大排查", None),
        ("Re: [报送#2026-0012] 与 [报送#2026-0013]", "2026-0012"),
    ],
)
def test_find_item_ref(subject: str, expected: str | None) -> None:
    assert find_item_ref(subject) == expected


def test_missing_lists_required_labels_in_order() -> None:
    assert F(title="关于防汛", unit="越秀区政府").missing() == ["签发人", "报送人", "电话"]
    assert F().missing() == ["标题", "单位", "签发人", "报送人", "电话"]
    assert F(title="t", **YX).missing() == []  # 日期 is never required


def test_merged_with_fills_only_missing_fields() -> None:
    subject = F(title="关于防汛", unit="越秀区政府", phone="13800138000")
    body = F(title="另一个标题", signer="张伟", reporter="李娜", phone="020-83123456", date=D3)
    assert subject.merged_with(body) == F(
        title="关于防汛", unit="越秀区政府", signer="张伟", reporter="李娜", phone="13800138000", date=D3
    )


@given(st.text())
def test_parse_subject_never_raises(text: str) -> None:
    info = parse_subject(text, TODAY)
    assert info.raw == text
    for value in (info.fields.title, info.fields.unit, info.fields.signer, info.fields.reporter):
        assert value is None or value.strip() != ""


@given(st.text(alphabet="标题单位签发人报送电话日期：:;；|｜【】[]紧急约稿#更正动态Re回复 0123456789-年月日"))
def test_parse_subject_never_raises_on_subject_like_text(text: str) -> None:
    parse_subject(text, TODAY)
    find_item_ref(text)


def test_our_yuegao_subjects_read_back_to_the_requests_title() -> None:
    from mailbot.core.submission.subject import strip_yuegao_wording, yuegao_reminder_subject, yuegao_subject

    for ours in (yuegao_subject(3, "四季度经济运行分析", date(2026, 10, 15)),
                 yuegao_reminder_subject(3, "四季度经济运行分析")):  # fmt: skip
        info = parse_subject("回复：" + ours, date(2026, 10, 14))
        assert info.yuegao == 3 and info.fields.title is not None
        assert strip_yuegao_wording(info.fields.title) == "四季度经济运行分析", ours
