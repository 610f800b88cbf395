"""The application core: durable state and its migrations, subscriptions, broadcasts, publishing,
roles, statistics, and the messages residents and staff read. No `telegram` import here, so the
terminal chat and the command line use the same rules as the bot.
"""
