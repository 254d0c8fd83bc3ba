"""HTTP glue shared by every function: app factory, error mapping, auth dependencies."""

from reco.api.app import build_app, lambda_handler
from reco.api.auth import caller, require_roles

__all__ = ["build_app", "caller", "lambda_handler", "require_roles"]
