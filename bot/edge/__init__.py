"""The Telegram edge: the `Application`, its handlers for residents and staff, the broadcast
sender, retried requests and updates that cannot be parsed. Built on `bot.core`.
"""
