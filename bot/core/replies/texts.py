"""Residents' fixed texts: notices, refusals, usage lines, example questions, and the limits that
shape replies (how long a headline or an echoed question may be, how many buttons in a row).
"""

from __future__ import annotations

import logging

from bot.core.messages import Line

log = logging.getLogger(__name__)

DEFAULT_NEWSPAPER = "社区报"


HEADLINE_CHARS = 60


ECHO_CHARS = 30


MAX_ISSUE_LINES = 20


MAX_STREET_BUTTONS = 40


BUTTONS_PER_ROW = 5


EXAMPLE_QUESTIONS: tuple[str, ...] = (
    "芷江西路垃圾分类检查去了哪些小区？",
    "天山路积水点改造",
    "老字号企业绣国旗",
)


SLOW_DOWN = "发得有点快啦 🙂 请稍等一两秒再问。"


REFUSED = "发得太快啦，下面 {count} 个问题这次不会回答，请稍等一会儿再发一次："


REFUSED_MORE = "……还有 {count} 个"


MAX_REFUSED_LISTED = 10


TEXT_ONLY = "我只能看懂文字问题哦。请直接打字提问，例如：垃圾分类、积水点改造。"


EXPIRED = "这个按钮已经过期了，请重新提问或发送 /latest。"


ARTICLE_GONE = "这篇文章已不在资料库中，请重新提问。"


NO_MORE = "没有更多结果了。"


UNKNOWN_COMMAND = "没有这个命令。发送 /help 看看我能做什么，或者直接打字提问。"


ERROR = "抱歉，刚才出了点问题，请稍后再试。"


ASK_USAGE = "请在 /ask 后面写上问题，例如：/ask 垃圾分类"


GROUP_USAGE = "在群里请这样问我：/ask 垃圾分类，或者 @我 加上问题。"


GROUP_PRIVATE_ONLY = "订阅和退订请私聊我：点下面的按钮打开私聊，再发送 {command}。"


GROUP_UNKNOWN_COMMAND = "没有这个命令。在群里可以用 /ask 问题、/latest 和 /help。"


EDITED_COMMAND = "修改过的命令不会再执行一次；需要的话请重新发送 {command}。"


EDITED_ANSWER = "✏️ 按修改后的问题重新回答："


NOT_IN_TERMINAL = "订阅在 Telegram 里使用：新一期出版时，机器人会把要点发给你。"


NO_QUESTION_YET = "还没有提问。直接打字提问吧，例如：垃圾分类。"


PICK_NUMBER = "请输入 {first}–{last} 之间的数字。"


DID_YOU_MEAN = "您是不是要找：{suggestion}"


UNSUBSCRIBE_HINT = "退订请发送 /unsubscribe 街道名（只写 /unsubscribe 全部退订）；发送 /mysubs 查看当前订阅。"


BLANK: Line = ()
