"""What a resident's message is, before it is searched: small talk, a wish to subscribe, a number
picking a listed article, "更多" for the next page, or a question.

One recogniser for the Telegram bot (bot.edge.handlers) and the terminal chat (bot.cli.terminal), so both
treat 你好, 谢谢, 怎么订阅, "2" and 更多 alike. It only looks at the text; which street a
subscription message names is read by the search engine's street recognition (scope_of).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from index.normalize import strip_symbols, to_simplified

QUESTION = "question"
GREETING = "greeting"
THANKS = "thanks"
HELP = "help"
BYE = "bye"
SUBSCRIBE = "subscribe"
UNSUBSCRIBE = "unsubscribe"
NUMBER = "number"
MORE = "more"
SMALL_TALK = frozenset({GREETING, THANKS, HELP, BYE})

MORE_WORDS = frozenset(
    {"更多", "更多结果", "下一页", "再来点", "还有吗", "还有呢", "继续", "/more", "more", "next", "m"}
)
# (Spaces are removed before matching: "thank you" is matched as thankyou.)
# Politeness around the words below: 你好呀, 谢谢啦, 好的谢谢, 小助手你好.
_PARTICLES = r"(?:啊|呀|哈|啦|了|哦|喔|噢|嘛|吧|呢|哟|嗷|~|～|\?|？)*"
_ADDRESS = r"(?:小助手|助手|机器人|bot|亲|老师|同志)?"
_GREETING = r"你好|您好|你们好|大家好|哈喽|哈罗|嗨|早上好|上午好|下午好|晚上好|早安|晚安|在吗|在不在|hi|hello|hey|哈啰"
_THANKS = r"谢谢|多谢|谢啦|感谢|感谢你|谢谢你|谢谢您|辛苦了|辛苦|麻烦你了|thanks|thankyou|thx|好的|好|嗯|ok|okay"
_HELP = (
    r"help|帮助|帮忙|使用说明|说明|怎么用|如何使用|怎么使用|用法|你能做什么|你会什么|你能干什么|你是谁|"
    r"能做什么|有什么功能|功能|菜单|\?|？"
)
_BYE = r"再见|拜拜|拜|bye|goodbye|回头见|下次见|88"
_SMALL_TALK_RE = {
    kind: re.compile(rf"^{_ADDRESS}(?:{words}){_PARTICLES}{_ADDRESS}(?:(?:{words}){_PARTICLES})*$")
    for kind, words in ((GREETING, _GREETING), (THANKS, _THANKS), (HELP, _HELP), (BYE, _BYE))
}
_UNSUBSCRIBE_RE = re.compile(r"取消订阅|退订|不想订|不要订|不再订|停止订阅|不想收|不要再?推送|别再?推送")
_SUBSCRIBE_RE = re.compile(
    r"订阅|订报|订一份|订份|订(?:个|一个)?社区报|订(?:一下|下)?(?:报纸|晨报)|推送给我|每期都?发给我"
)
# A message longer than this that mentions 订阅 is more likely a question about an article.
SUBSCRIBE_MAX_CHARS = 40
_STRIP_RE = re.compile(r"[\s，,。.!！、；;：:\"“”'‘’]+")


@dataclass(frozen=True)
class Intent:
    """A recognised message: its kind, and the number picked (kind NUMBER)."""

    kind: str
    number: int = 0


def _compact(text: str) -> str:
    text = unicodedata.normalize("NFKC", strip_symbols(text)).lower()
    return _STRIP_RE.sub("", to_simplified(text))


def recognise(text: str) -> Intent:
    """The intent of one message from a resident (anything unrecognised is a question)."""
    raw = text.strip()
    if not raw:
        return Intent(QUESTION)
    folded = unicodedata.normalize("NFKC", raw)
    if folded.isdecimal() and folded.isascii():
        # A number too long for any list gets the "pick a listed number" reply, not a crash.
        return Intent(NUMBER, int(folded) if len(folded) <= 9 else 0)
    compact = _compact(raw)
    if compact in MORE_WORDS or raw.lower() in MORE_WORDS:
        return Intent(MORE)
    if not compact:
        return Intent(QUESTION)
    for kind, pattern in _SMALL_TALK_RE.items():
        if pattern.fullmatch(compact):
            return Intent(kind)
    if len(compact) <= SUBSCRIBE_MAX_CHARS:
        if _UNSUBSCRIBE_RE.search(compact):
            return Intent(UNSUBSCRIBE)
        if _SUBSCRIBE_RE.search(compact):
            return Intent(SUBSCRIBE)
    return Intent(QUESTION)
