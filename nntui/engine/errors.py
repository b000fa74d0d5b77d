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
