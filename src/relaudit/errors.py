"""Exception types relaudit raises for problems a user can fix."""

from __future__ import annotations


class RelauditError(Exception):
    """Base class: a problem with the user's input or environment, reported without a traceback."""


class BadRequestError(RelauditError):
    """An audit request (CLI flags or Lambda event) names a bad field or value."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class CheckFileError(RelauditError):
    """A check file is invalid; the message names the file, the field and the reason."""

    def __init__(self, path: str, field: str, reason: str) -> None:
        super().__init__(f"{path}: field '{field}': {reason}")
        self.path = path
        self.field = field
        self.reason = reason
