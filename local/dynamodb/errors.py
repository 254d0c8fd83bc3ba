"""DynamoDB's errors, as the service sends them: ``{"__type": "…#Code", "message": …}`` with an HTTP status."""

from __future__ import annotations

from typing import Any

ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"


class DynamoDBError(Exception):
    """An error answer; botocore raises it as ``ClientError`` with ``code`` and the body's extra fields."""

    code = "InternalServerError"
    status = 400

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"__type": ERROR_PREFIX + self.code, "message": self.message, **self.extra}


class ValidationError(DynamoDBError):
    code = "ValidationException"


class ResourceNotFound(DynamoDBError):
    code = "ResourceNotFoundException"


class ResourceInUse(DynamoDBError):
    code = "ResourceInUseException"


class ConditionalCheckFailed(DynamoDBError):
    code = "ConditionalCheckFailedException"


class TransactionCanceled(DynamoDBError):
    code = "TransactionCanceledException"

    def __init__(self, reasons: list[dict[str, Any]]) -> None:
        codes = ", ".join(reason["Code"] for reason in reasons)
        super().__init__(
            f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
            CancellationReasons=reasons,
        )


class UnknownOperation(DynamoDBError):
    code = "UnknownOperationException"


class InternalServerError(DynamoDBError):
    code = "InternalServerError"
    status = 500
