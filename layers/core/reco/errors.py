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

    def __init__(self, message: str, *, retry_after_seconds: int = 1, data: dict[str, Any] | None = None) -> None:
        super().__init__(message, data=data)
        self.retry_after_seconds = retry_after_seconds  # the Retry-After header


class TenantRateLimited(TooManyRequests):
    """The caller's tenant is over its share of the route (reco.tenant_share); its window ends in Retry-After."""

    code = "TENANT_RATE_LIMITED"


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


class UnreadableRecord(Conflict):
    """A stored record this version cannot decode (written before a limit existed): delete it and write it again."""

    code = "UNREADABLE_RECORD"


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


# --- The Scenarios family's error names (``error_data.name`` in their error bodies) -------------


class WrongDataType(BadRequest):
    """A business rule or filter is invalid: bad shape, bad value for the property's type, a loop."""

    code = "WRONG_DATA_TYPE"


class WrongOpUse(BadRequest):
    """A filter operator that does not apply to the property (``eq`` on a float, ``gt`` on a boolean)."""

    code = "WRONG_OP_USE"


class WrongParameter(BadRequest):
    """A request parameter that is not valid (query string, ids, mutually exclusive fields)."""

    code = "WRONG_PARAMETER"


class ScenarioInUse(BadRequest):
    """A scenario that another scenario (or a default) references cannot be deleted."""

    code = "SCENARIO_IN_USE"


class ScenarioNotFound(NotFound):
    code = "SCENARIO_NOT_FOUND"


class ItemPropertyNotFound(NotFound):
    """A business rule names an item property that no item of the serving model carries."""

    code = "ITEM_PROPERTY_NOT_FOUND"


class DatabaseNotReady(ServiceUnavailable):
    """The tenant has no trained model yet: nothing can be recommended."""

    code = "DATABASE_NOT_READY"


# --- GET /v1/recommendations and POST /api/recommend/… ------------------------------------------


class MalformedFilter(BadRequest):
    """A ``filter`` / ``filters`` shorthand or a ``scope`` filter that cannot be read or applied."""

    code = "MALFORMED_FILTER"


class ContextNotFound(NotFound):
    code = "CONTEXT_NOT_FOUND"


class ConversationNotFound(NotFound):
    """POST /v1/chat continuing a conversation this tenant does not have (or that expired)."""

    code = "CONVERSATION_NOT_FOUND"
