"""The concrete stores each domain service runs on, built once per container."""

from __future__ import annotations

from reco.chat.service import ChatServices
from reco.customer.service import CustomerServices
from reco.lists.contexts import ContextServices
from reco.lists.query import ListServices
from reco.ranking.service import RankingServices
from reco.recommendations.service import RecommendationServices
from reco.serving.cache import ModelCache
from reco.serving.history import RecentEvents
from reco.settings import get_settings
from reco.stores.artifacts import artifact_storage
from reco.stores.aws import cached_store
from reco.stores.bedrock import BedrockChatModel
from reco.stores.catalog import catalog_store
from reco.stores.contexts import context_store
from reco.stores.conversations import conversation_store
from reco.stores.decisions import decision_store
from reco.stores.events import event_store
from reco.stores.launchers import LambdaTrainingLauncher, ThreadTrainingLauncher
from reco.stores.models import model_registry
from reco.stores.request_logs import request_log_store
from reco.stores.scenarios import scenario_store
from reco.training.service import TrainingLauncher, TrainingServices


def training_services() -> TrainingServices:
    return TrainingServices(model_registry(), event_store(), catalog_store(), artifact_storage())


@cached_store
def training_launcher() -> TrainingLauncher:
    settings = get_settings()
    if settings.training_launcher == "lambda":
        return LambdaTrainingLauncher.from_function_name(settings.train_function)
    return ThreadTrainingLauncher(training_services)


@cached_store
def model_cache() -> ModelCache:
    return ModelCache(model_registry(), artifact_storage(), get_settings().model_refresh_seconds)


@cached_store
def ranking_services() -> RankingServices:
    return RankingServices(model_cache(), RecentEvents(event_store()), decision_store())


@cached_store
def recommendation_services() -> RecommendationServices:
    return RecommendationServices(model_cache(), event_store(), catalog_store(), scenario_store(), decision_store())


def context_services() -> ContextServices:
    return ContextServices(context_store(), scenario_store())


@cached_store
def list_services() -> ListServices:
    return ListServices(recommendation_services(), context_store(), catalog_store(), get_settings().category_property)


@cached_store
def customer_services() -> CustomerServices:
    return CustomerServices(recommendation_services(), request_log_store())


@cached_store
def chat_services() -> ChatServices:
    settings = get_settings()
    model = (
        BedrockChatModel.from_settings(settings.chat_model_id, settings.chat_model_timeout_seconds)
        if settings.chat_model_id
        else None
    )
    return ChatServices(
        recommendation_services(),
        conversation_store(),
        catalog_store(),
        model,
        settings.price_property,
        settings.category_property,
    )
