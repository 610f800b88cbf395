"""The exit codes of every `newsbot` command, each with one meaning (shown by `newsbot --help`)."""

from __future__ import annotations

EXIT_OK = 0
# Done, but some input was skipped; each skipped file or line is named on standard error with its reason.
EXIT_SKIPPED = 1
# Bad usage or input (arguments, configuration, token, file): nothing was done.
EXIT_USAGE = 2
# Could not finish for a reason outside the input: the Bot API unreachable, the webhook port taken,
# a benchmark run failing.
EXIT_FAILED = 3
# Stopped with Ctrl-C (the shell's convention, 128 + SIGINT).
EXIT_INTERRUPTED = 130

HELP = (
    f"Exit codes: {EXIT_OK} done; {EXIT_SKIPPED} done, but some input was skipped (named on standard error); "
    f"{EXIT_USAGE} bad usage or input, nothing done; {EXIT_FAILED} failed for another reason (Bot API "
    f"unreachable, webhook port taken, benchmark failed); {EXIT_INTERRUPTED} stopped with Ctrl-C."
)
