"""Runtime settings, read once from the environment into a typed object."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

MIB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    """Everything a function needs to know about its deployment.

    Table and bucket names are injected by ``template.yaml`` (``!Ref``) in AWS and by the
    local runner, which reads the same template.
    """

    tenant_claim: str = "tenant"
    role_scope_prefix: str = "reco"
    config_table: str = "ConfigTable"
    catalog_table: str = "CatalogTable"
    events_table: str = "EventsTable"
    conversations_table: str = "ConversationsTable"
    decisions_table: str = "DecisionsTable"
    artifacts_bucket: str = "ArtifactsBucket"
    decision_log_ttl_days: int = 90
    event_ttl_days: int = 730
    max_body_bytes: int = MIB
    # How often a warm container asks the registry whether a newer model version was published.
    model_refresh_seconds: float = 60.0
    # "lambda": POST /v1/models/{id}/train invokes TRAIN_FUNCTION asynchronously; "thread": a
    # background thread in the same process (the local runner and tests).
    training_launcher: str = "thread"
    train_function: str = ""
    # Catalog properties the recommendation lists read by meaning (customer preferences, auto-mode
    # "popular in category" sections, the new_arrivals template).
    category_property: str = "category"
    price_property: str = "price"
    date_property: str = "created_at"
    # Days the request and decision logs of POST /api/recommend/recommend are kept.
    request_log_ttl_days: int = 30
    # POST /v1/chat: days a conversation is kept after its last turn; the Bedrock model that words
    # replies and reads messages ("" = none: the built-in understanding and replies), and how long
    # a turn waits for it before falling back.
    conversation_ttl_days: int = 7
    chat_model_id: str = ""
    chat_model_timeout_seconds: float = 3.0
    # Each tenant's share of a route: TENANT_BURST_LIMIT requests per TENANT_BURST_LIMIT /
    # TENANT_RATE_LIMIT seconds, counted in RATE_COUNTERS_TABLE (docs/throttling.md); 0: no share.
    tenant_rate_limit: float = 0.0
    tenant_burst_limit: int = 0
    rate_counters_table: str = "RateCountersTable"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        defaults = cls()
        return cls(
            tenant_claim=env.get("TENANT_CLAIM", defaults.tenant_claim),
            role_scope_prefix=env.get("ROLE_SCOPE_PREFIX", defaults.role_scope_prefix),
            config_table=env.get("CONFIG_TABLE", defaults.config_table),
            catalog_table=env.get("CATALOG_TABLE", defaults.catalog_table),
            events_table=env.get("EVENTS_TABLE", defaults.events_table),
            conversations_table=env.get("CONVERSATIONS_TABLE", defaults.conversations_table),
            decisions_table=env.get("DECISIONS_TABLE", defaults.decisions_table),
            artifacts_bucket=env.get("ARTIFACTS_BUCKET", defaults.artifacts_bucket),
            decision_log_ttl_days=int(env.get("DECISION_LOG_TTL_DAYS", defaults.decision_log_ttl_days)),
            event_ttl_days=int(env.get("EVENT_TTL_DAYS", defaults.event_ttl_days)),
            max_body_bytes=int(env.get("MAX_BODY_BYTES", defaults.max_body_bytes)),
            model_refresh_seconds=float(env.get("MODEL_REFRESH_SECONDS", defaults.model_refresh_seconds)),
            # Inside Lambda a thread would freeze after the response: never the default there.
            training_launcher=env.get(
                "TRAINING_LAUNCHER", "lambda" if "AWS_LAMBDA_FUNCTION_NAME" in env else defaults.training_launcher
            ),
            train_function=env.get("TRAIN_FUNCTION", defaults.train_function),
            category_property=env.get("CATEGORY_PROPERTY", defaults.category_property),
            price_property=env.get("PRICE_PROPERTY", defaults.price_property),
            date_property=env.get("DATE_PROPERTY", defaults.date_property),
            request_log_ttl_days=int(env.get("REQUEST_LOG_TTL_DAYS", defaults.request_log_ttl_days)),
            conversation_ttl_days=int(env.get("CONVERSATION_TTL_DAYS", defaults.conversation_ttl_days)),
            chat_model_id=env.get("CHAT_MODEL_ID", defaults.chat_model_id),
            chat_model_timeout_seconds=float(
                env.get("CHAT_MODEL_TIMEOUT_SECONDS", defaults.chat_model_timeout_seconds)
            ),
            tenant_rate_limit=float(env.get("TENANT_RATE_LIMIT", defaults.tenant_rate_limit)),
            tenant_burst_limit=int(env.get("TENANT_BURST_LIMIT", defaults.tenant_burst_limit)),
            rate_counters_table=env.get("RATE_COUNTERS_TABLE", defaults.rate_counters_table),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached: the environment of a Lambda container is fixed)."""
    return Settings.from_env()
