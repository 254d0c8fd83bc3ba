"""Typed domain errors. The HTTP layer maps each class to a status code in one place."""

from __future__ import annotations

from typing import Any


class RecoError(Exception):
    """Base class: a failure the caller can understand and act on."""

    status_code = 400
    code = "BAD_REQUEST"

    def __init__(self, message: str, *, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data or {}


class BadRequest(RecoError):
    status_code = 400
    code = "BAD_REQUEST"


class MalformedJson(BadRequest):
    code = "MALFORMED_JSON"


class Unauthenticated(RecoError):
    status_code = 401
    code = "UNAUTHENTICATED"


class Forbidden(RecoError):
    status_code = 403
    code = "FORBIDDEN"


class NotFound(RecoError):
    status_code = 404
    code = "NOT_FOUND"


class ModelNotFound(NotFound):
    code = "MODEL_NOT_FOUND"


class PayloadTooLarge(RecoError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(RecoError):
    status_code = 415
    code = "UNSUPPORTED_MEDIA_TYPE"


class TooManyRequests(RecoError):
    status_code = 429
    code = "TOO_MANY_REQUESTS"


class InternalError(RecoError):
    """Never raised for a client mistake: the body stays opaque, the details go to the log."""

    status_code = 500
    code = "INTERNAL_ERROR"


class ServiceUnavailable(RecoError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"


class ModelNotReady(ServiceUnavailable):
    code = "MODEL_NOT_READY"


class Conflict(RecoError):
    status_code = 409
    code = "CONFLICT"


class TrainingInProgress(Conflict):
    code = "TRAINING_IN_PROGRESS"


class NoTrainingData(Conflict):
    code = "NO_TRAINING_DATA"


class StaleTrainingJob(Conflict):
    """A newer training run took over the model while this one ran: its version is not published."""

    code = "STALE_TRAINING_JOB"


class ItemNotFound(NotFound):
    code = "ITEM_NOT_FOUND"


class UserNotFound(NotFound):
    code = "USER_NOT_FOUND"


class MalformedCursor(BadRequest):
    """A page cursor that is garbled, or was issued for another list (another user, another tenant)."""

    code = "MALFORMED_CURSOR"
