"""The Telegram layer of newsbot (and the command line that starts everything)."""
