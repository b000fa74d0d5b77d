"""The errors nntui raises for problems a user can fix.

Every message is one line that says what is wrong and what is allowed, so the
CLI can print it as it is and the dashboard can show it next to an input.
"""


class NntuiError(Exception):
    """Base class: a problem with the user's input, files or environment."""


class ConfigError(NntuiError, ValueError):
    """A hyperparameter or option has a value nntui cannot train with."""


class DataError(NntuiError):
    """A data file is missing, unreadable, corrupt or of the wrong shape."""


class ModelFileError(NntuiError):
    """A saved model file is missing, corrupt or does not fit."""


def reason(exc: BaseException) -> str:
    """One short line saying why ``exc`` happened, for the end of an error message.

    An `OSError`'s own words ("No such file or directory") without the errno and
    path that the message around it already gives; otherwise the first line of
    the exception's text (at most 120 characters), or its type's name if it has none.
    """
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]
