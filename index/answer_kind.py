"""What a question asks for (a quantity, a date, a person, a place, a list) and where a text holds one.

A resident asking 有多少位…, …是哪天召开的, …是谁讲的, …在哪里开的 or …有哪些… wants the
sentence with the number, the date, the name, the place or the items, not the one that merely
repeats the question's words. `asked_kinds` reads the question; `answer_spans` finds answers of
those kinds in a passage, so the snippet chooser (index.snippet) can prefer a window that holds
one. Everything is found with patterns, and names with the segmenter's dictionary: a name is two
or three characters after a title (主任张晓明) or a common surname before a reporting verb
(李建国介绍), that are not a dictionary word (书记出席 is no name). jieba's part-of-speech tagger
would find more names but costs about a millisecond per 100 characters and 40 MB: too much for
the few milliseconds a whole answer may take.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

QUANTITY = "quantity"
DATE = "date"
PERSON = "person"
PLACE = "place"
LIST = "list"
KINDS = (QUANTITY, DATE, PERSON, PLACE, LIST)

# Whether a text is a dictionary word (index.tokenize.Tokenizer.is_word).
IsWord = Callable[[str], bool]

_HAN = r"\u4e00-\u9fff"
_CN_NUM = "零〇一二两三四五六七八九十百千万"

# --- what the question asks ---------------------------------------------------------------------

_ASK_DATE = re.compile(
    r"哪天|哪一天|哪日|哪号|几号|几月|几日|几点|哪个月|哪一年|哪年|哪个时间|什么时候|啥时候|什么时间|啥时间|"
    r"何时|何日|多会儿|日期|截止|时间是|时间在|时间为|开始时间|结束时间"
)
# 几 asks how many unless it is part of a date (几号, 几月) or of 哪几 (which ones).
_ASK_QUANTITY = re.compile(r"多少|(?<!哪)几(?![号月日点])|多大|多长|多久|多高|多远|多重|多老|数量|人数|总数|规模")
_PERSON_NOUNS = (
    "领导|嘉宾|专家|老师|教授|医生|代表|人员|干部|志愿者|党员|居民|书记|主任|同志|劳模|讲师|主持人|负责人|演员|选手|人"
)
_ASK_PERSON = re.compile(
    rf"谁|哪位|哪一位|哪几位|什么人|啥人|何人|名字|叫什么|姓什么|哪些(?:{_PERSON_NOUNS})|哪个(?:{_PERSON_NOUNS})|"
    r"由哪个|是哪个单位|哪家单位"
)
_PLACE_NOUNS = (
    "居民区|小区|居委会|居委|街道|社区|农场|单位|部门|机构|组织|公司|企业|学校|医院|场馆|场所|基地|公园|地方|"
    "村|镇|区|路|楼|会场|场地|中心|地点|城市|省|市|国家|饭店|餐厅|商店|商场|店"
)
_ASK_PLACE = re.compile(
    rf"哪里|哪儿|在哪|去哪|到哪|何处|何地|什么地方|啥地方|地点|地址|位置|"
    rf"哪(?:个|家|些|一个|一家|所|座|几个|几家)?(?:{_PLACE_NOUNS})"
)
_ASK_LIST = re.compile(r"哪些|哪几|哪[两二三四五六七八九十]+|有什么|有啥|包括什么|包括哪|都有")


def asked_kinds(question: str) -> frozenset[str]:
    """The kinds of answer a question asks for (empty when it asks for none in particular)."""
    kinds = set()
    if _ASK_DATE.search(question):
        kinds.add(DATE)
    if _ASK_QUANTITY.search(question):
        kinds.add(QUANTITY)
    if _ASK_PERSON.search(question):
        kinds.add(PERSON)
    if _ASK_PLACE.search(question):
        kinds.add(PLACE)
    if _ASK_LIST.search(question):
        kinds.add(LIST)
    return frozenset(kinds)


# --- answers in a text ----------------------------------------------------------------------------

_NUMBER = rf"(?:\d+(?:[.,]\d+)?|[{_CN_NUM}]+)"
_DATE_RE = re.compile(
    rf"(?:\d{{4}}|[{_CN_NUM}]{{4}})\s*年\s*{_NUMBER}\s*月(?:\s*{_NUMBER}\s*[日号])?|"
    rf"{_NUMBER}\s*月\s*{_NUMBER}\s*[日号](?:\s*(?:上午|下午|晚上|晚|中午|早上|凌晨))?|"
    rf"{_NUMBER}\s*[日号]\s*(?:上午|下午|晚上|中午|早上)|"
    r"(?:上午|下午|晚上|中午|早上|凌晨)?\s*\d{1,2}\s*[:：点]\s*\d{0,2}\s*分?|"
    r"(?<!超过)(?<![近约达逾])(?:(?:19|20)\d{2}|[一二][零〇一二三四五六七八九]{3})\s*年(?!历史|来|间|之久|多)|"
    r"(?:当|本|下|上)?月(?:底|初|中旬|上旬|下旬|末)|年(?:底|初|末)|"
    r"(?:周|星期|礼拜)[一二三四五六日天]|今天|明天|昨天|前天|后天|春节|国庆|元旦|端午|中秋|清明|重阳|"
    r"近日|日前|近期|本月|上月|下月|月初|年内"
)
_MEASURES = (
    "周岁|平方米|平米|公里|公斤|小时|分钟|余人|多人|人次|户次|万元|亿元|名|家|位|个|张|人|次|场|户|岁|元|块|"
    "项|条|支|所|座|套|辆|台|件|份|本|册|箱|袋|届|批|组|队|间|栋|幢|层|米|亩|吨|斤|天|周|倍|%|％|成|"
    "种|处|棵|盆|只|篇|首|期|年"
)
_QUANTITY_RE = re.compile(rf"(?<![\d.]){_NUMBER}\s*(?:多|余)?\s*(?:万|亿)?\s*(?:{_MEASURES})")
_YEAR_RE = re.compile(r"(?:\d{4}|[零〇一二三四五六七八九]{4})\s*年")
_PLACE_RE = re.compile(
    rf"[{_HAN}\d]{{1,10}}?(?:居民区|小区|居委会|居委|街道|社区|农场|基地|公园|广场|大厦|大楼|中心|会议室|"
    r"多功能厅|礼堂|剧场|剧院|博物馆|纪念馆|展览馆|图书馆|体育馆|文化馆|活动室|工作室|服务站|学校|小学|中学|大学|"
    r"医院|卫生院|园区|菜场|市场|商场|饭店|酒店|宾馆|故居|新村|弄|号楼|路|号|村|镇|厅|馆|园|楼|站|港)"
)
_ORG_RE = re.compile(
    rf"[{_HAN}]{{1,10}}?(?:委员会|管委会?|建管委|居委会?|党工委|党委|党支部|党总支|工会|团委|妇联|科协|协会|学会|"
    r"商会|集团|公司|办事处|办公室|事务所|管理所|派出所|服务站|工作站|服务队|志愿队|管理局|公安局|分局|医院|法院|"
    r"研究院|研究所|中心)"
)
_TITLES = (
    "书记|主任|处长|局长|区长|主席|教授|代表|委员|院长|校长|经理|董事长|理事长|会长|部长|科长|所长|站长|馆长|"
    "老师|医生|劳模|总监|民警|社工|队长|组长|班长|楼组长"
)
_TITLED_NAME_RE = re.compile(rf"(?:{_TITLES})([{_HAN}]{{2,3}})")
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪"
    "范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤邢翁施瞿钮缪"
)
_VERBS = "指出|表示|说|介绍|强调|讲|主持|汇报|带领|出席|参加|发言|致辞|作|为|对|向|以|在"
_NAMED_RE = re.compile(rf"([{_SURNAMES}][{_HAN}]{{1,2}}?)(?={_VERBS})")


def _name_like(candidate: str, is_word: IsWord | None) -> bool:
    """Characters whose first two are no dictionary word (so not 出席, 一行, 大家; the dictionary
    does hold some whole names, 王丽华, but hardly any given name with its surname's half)."""
    return is_word is None or not is_word(candidate[:2])


# Numbered items and runs of titles are lists for sure; a run of 、 is how prose lists anything, so it counts less.
_LIST_RE = re.compile(
    r"(?:^|[。；：\n])\s*(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|\(?\d{1,2}[)）、.．])|"
    r"《[^》]{1,30}》\s*[、和及与]?\s*《"
)
_ENUMERATION_RE = re.compile(rf"[{_HAN}\w》”]{{1,20}}、[{_HAN}\w《“]{{1,20}}(?:、|和|及|与|以及|等)")
WEAK = 0.7


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in pattern.finditer(text) if m.end() > m.start()]


def _quantity_spans(text: str) -> list[tuple[int, int]]:
    # A year (2019年) or a date (6月12日) is not an amount.
    dates = _spans(_DATE_RE, text)
    out = []
    for start, end in _spans(_QUANTITY_RE, text):
        if any(s <= start < e for s, e in dates) or _YEAR_RE.fullmatch(text[start:end]):
            continue
        # A lone 一 is mostly "a" (一个, 一次, 一批), not an amount anyone asks for.
        if text[start] == "一" and (end - start == 2 or text[start + 1] not in _CN_NUM):
            continue
        out.append((start, end))
    return out


def _person_spans(text: str, is_word: IsWord | None) -> list[tuple[int, int]]:
    spans = []
    for match in _TITLED_NAME_RE.finditer(text):
        name = match.group(1)
        if _name_like(name, is_word):
            spans.append((match.start(1), match.end(1)))
    for match in _NAMED_RE.finditer(text):
        if _name_like(match.group(1), is_word):
            spans.append((match.start(1), match.end(1)))
    # 谁 is often an organisation: 由谁主办, 谁汇报的 → 区建管委.
    spans.extend(_spans(_ORG_RE, text))
    return spans


def answer_spans(text: str, kinds: Iterable[str], is_word: IsWord | None = None) -> list[tuple[int, int, float]]:
    """(start, end, strength) of the spans of `text` that answer a question of the given kinds, in order.

    Strength is 1 for a sure answer of the kind, `WEAK` for one that only may be (a run of 、).
    """
    spans: list[tuple[int, int]] = []
    weak: list[tuple[int, int]] = []
    for kind in kinds:
        if kind == DATE:
            spans.extend(_spans(_DATE_RE, text))
        elif kind == QUANTITY:
            spans.extend(_quantity_spans(text))
        elif kind == PERSON:
            spans.extend(_person_spans(text, is_word))
        elif kind == PLACE:
            spans.extend(_spans(_PLACE_RE, text))
            spans.extend(_spans(_ORG_RE, text))
        elif kind == LIST:
            spans.extend(_spans(_LIST_RE, text))
            weak.extend(_spans(_ENUMERATION_RE, text))
    out = {(s, e, 1.0) for s, e in spans} | {(s, e, WEAK) for s, e in weak if (s, e) not in spans}
    return sorted(out)
