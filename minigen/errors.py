"""Errors a user can cause (bad name, bad value, missing file).

They are raised anywhere in the library with a one-line message that says what is wrong and what
would be right; the CLI prints that line and exits with code 2, without a traceback.
Internal invariants are `assert`s, not UserErrors.
"""


class UserError(Exception):
    """A mistake in the user's input: reported in one line, exit code 2."""
