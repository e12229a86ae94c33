"""The one base class of the user's mistakes.

Every error that is the input's fault (an option, a scenario, a spec file or one of
its hooks, the --out folder) derives from `InputError`, so that the command line turns
it into one line on stderr and exit code 2 without knowing every kind.  It is a
ValueError, so code that catches one catches these too.
"""


class InputError(ValueError):
    """Bad input: its message names the file and line, option or hook, and the reason."""
