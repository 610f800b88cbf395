"""The exit codes of every `newsbot` command.

    0  done
    1  done, but some input was skipped (named on standard error)
    2  bad usage or input (nothing done)
"""

EXIT_OK, EXIT_SKIPPED, EXIT_USAGE = 0, 1, 2
