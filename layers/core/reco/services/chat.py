"""POST /v1/chat's services."""

from __future__ import annotations

from reco.chat.service import ChatServices
from reco.services.recommendations import recommendation_services
from reco.settings import get_settings
from reco.stores.aws import cached_store
from reco.stores.catalog import catalog_store
from reco.stores.conversations import conversation_store


@cached_store
def chat_services() -> ChatServices:
    settings = get_settings()
    model = None
    if settings.chat_model_id:
        # Only a stack with a Bedrock model pays for its client.
        from reco.stores.bedrock import BedrockChatModel

        model = BedrockChatModel.from_settings(settings.chat_model_id, settings.chat_model_timeout_seconds)
    return ChatServices(
        recommendation_services(),
        conversation_store(),
        catalog_store(),
        model,
        settings.price_property,
        settings.category_property,
    )
