"""Street and time expressions in questions (index/scope.py) and their use in searching."""

from __future__ import annotations

import pytest

from index.scope import parse_scope, parse_time, street_aliases

NEWEST = "2020-06"

# (question, months, years, latest, text that must be gone from the rest)
TIME_CASES = [
    ("2019年11月花木街道有什么活动", {"2019-11"}, set(), False, "2019年11月"),
    ("二〇一九年十一月的报纸", {"2019-11"}, set(), False, "十一月"),
    ("19年3月份的垃圾分类", {"2019-03"}, set(), False, "19年3月份"),
    ("六月份开了什么会", {"2020-06"}, set(), False, "六月份"),
    ("6月的报纸讲了啥", {"2020-06"}, set(), False, "6月"),
    ("十二月的活动", {"2019-12"}, set(), False, "十二月"),  # later than the newest month: last year's
    ("12月份", {"2019-12"}, set(), False, "12月份"),
    ("一月", {"2020-01"}, set(), False, "一月"),
    ("今年的防汛工作", set(), {"2020"}, False, "今年"),
    ("去年有什么活动", set(), {"2019"}, False, "去年"),
    ("去年11月的义诊", {"2019-11"}, set(), False, "去年11月"),
    ("今年5月份", {"2020-05"}, set(), False, "今年5月份"),
    ("2019年的党课", set(), {"2019"}, False, "2019年"),
    ("上个月的会议", {"2020-05"}, set(), False, "上个月"),
    ("本月", {"2020-06"}, set(), False, "本月"),
    ("最新一期讲了什么", set(), set(), True, "最新一期"),
    ("最近有什么活动", set(), set(), True, "最近"),
    ("垃圾分类", set(), set(), False, ""),
    ("六个一举措", set(), set(), False, ""),  # a number that is not a month
    ("5月9日上午的绒绣活动", set(), set(), False, ""),  # a day is content, not the issue month
]


@pytest.mark.parametrize(("question", "months", "years", "latest", "gone"), TIME_CASES)
def test_time_expressions(question: str, months: set[str], years: set[str], latest: bool, gone: str) -> None:
    got_months, got_years, got_latest, rest, mentions = parse_time(question, NEWEST)
    assert (got_months, got_years, got_latest) == (months, years, latest)
    if gone:
        assert gone not in rest
        assert mentions
    else:
        assert rest == question and not mentions


def test_times_count_from_the_newest_issue_not_the_clock() -> None:
    assert parse_time("去年", "2015-02")[1] == {"2014"}
    assert parse_time("三月", "2015-02")[0] == {"2014-03"}
    assert parse_time("上个月", "2015-01")[0] == {"2014-12"}


STREETS = {
    "天山路街道": street_aliases("天山路街道", ["天山社区晨报"]),
    "芷江西路街道": street_aliases("芷江西路街道"),
    "花木街道": street_aliases("花木街道"),
}


@pytest.mark.parametrize(
    ("question", "street"),
    [
        ("天山路街道6月的报纸", "天山路街道"),
        ("天山路有什么新闻", "天山路街道"),
        ("天山社区晨报最新一期", "天山路街道"),
        ("芷江西社区垃圾分类", "芷江西路街道"),
        ("芷江西路的党课", "芷江西路街道"),
        ("花木的义诊", "花木街道"),
        ("垃圾分类", ""),
    ],
)
def test_streets_by_any_of_their_names(question: str, street: str) -> None:
    scope = parse_scope(question, STREETS, NEWEST)
    assert scope.street == street
    if street:
        assert all(alias not in scope.rest for alias in STREETS[street])


def test_without_issue_months_dates_stay_words() -> None:
    scope = parse_scope("2023年7月份全国工业利润", {}, "")
    assert not scope.active
    assert "2023" in scope.rest and "7月" in scope.rest
