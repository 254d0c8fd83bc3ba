"""What went wrong, in one line that says what to do: the CLI prints this instead of a traceback."""

from __future__ import annotations

import os

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from reco.errors import RecoError

STACK_SETTINGS = "CONFIG_TABLE, CATALOG_TABLE, EVENTS_TABLE, DECISIONS_TABLE and ARTIFACTS_BUCKET"


class CommandError(Exception):
    """A problem the user fixes by doing something else (the message says what)."""


def describe_error(error: BaseException) -> str | None:
    """A one-line message for an error the user can act on; None for a bug (the traceback is wanted)."""
    if isinstance(error, CommandError | RecoError):
        return str(error)
    if isinstance(error, FileNotFoundError | ValueError | LookupError):
        return str(error)
    if isinstance(error, NoRegionError):
        return (
            "no AWS region is set: for your stack export AWS_REGION and the stack's "
            f"{STACK_SETTINGS} (docs/command-line.md); for `make run`, add --local"
        )
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return "no AWS credentials found: configure them (aws configure, AWS_PROFILE), or add --local for `make run`"
    if isinstance(error, EndpointConnectionError | ConnectionClosedError | ReadTimeoutError):
        where = os.environ.get("AWS_ENDPOINT_URL") or getattr(error, "kwargs", {}).get("endpoint_url", "AWS")
        return f"cannot reach {where} ({type(error).__name__}): if it is `make run`, check that it is still running"
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "")
        if code == "ResourceNotFoundException":
            return f"{message}: set {STACK_SETTINGS} to your stack's outputs, or use --local with `make run`"
        return f"AWS refused the call ({code}): {message}"
    return None
