"""The one error hierarchy services raise; web and CLI map it once each."""

from __future__ import annotations


class PatrimoineError(Exception):
    """Base error. `message` is shown to users and is written in French."""

    status = 400
    exit_code = 1

    def __init__(self, message: str, *, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class Invalid(PatrimoineError):
    status = 422
    exit_code = 2


class NotFound(PatrimoineError):
    status = 404
    exit_code = 3


class Forbidden(PatrimoineError):
    status = 403
    exit_code = 4


class Unauthenticated(PatrimoineError):
    status = 401
    exit_code = 4


class Conflict(PatrimoineError):
    status = 409
    exit_code = 5


class SchemaOutOfDate(PatrimoineError):
    status = 503
    exit_code = 6
