"""The command line (`newsbot ...`) and the terminal chat, built on `bot.core` and `index`."""
