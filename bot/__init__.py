"""newsbot's application: the core (state, subscriptions, broadcasts, publishing, roles, stats,
messages), the Telegram edge built on it, and the command line and terminal chat.

`bot.core` never imports `telegram`; `bot.edge` is the only package that talks to Telegram.
"""
