"""User-facing errors: the CLI prints their message as one line and exits non-zero (no traceback)."""


class ReasonlabError(Exception):
    """Base of every error whose message is meant for the user."""

    exit_code = 1


class InputError(ReasonlabError, ValueError):
    """Bad input from the user: empty question, malformed file, unknown name."""

    exit_code = 2
