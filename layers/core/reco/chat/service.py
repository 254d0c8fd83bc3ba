"""chat_turn: the domain behind POST /v1/chat.

One turn: load the conversation (an id the tenant has not seen starts one under it; 404 if a browser
token names another subject's conversation), understand the message
against the catalog's vocabulary and the previous turn (or ask the language model, when one is
configured, falling back on any failure), retrieve and rank items (``reco.chat.retrieval``) under
the tenant's ``chat_to_items`` default scenario, reply (grounded in the items found, or one
clarifying question), store the turn, and log the served items as a decision for attribution.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from reco.chat.conversations import MAX_TURNS, Conversation, ConversationRepository, Turn
from reco.chat.lexicon import RESET, normalize
from reco.chat.llm import ChatLanguageModel, GroundingItem
from reco.chat.replies import clarifying_question, grounded_reply
from reco.chat.retrieval import all_of, blended_scores, blocking, constraint_masks, tag_matches, unavailable
from reco.chat.understanding import CatalogVocabulary, ChatEvent, Constraints, understand
from reco.decisions import Decision
from reco.errors import Conflict, ConversationNotFound
from reco.identity import Identity
from reco.models.artifact import ModelArtifact
from reco.recommendations.facts import ItemDetailsReader, Requester
from reco.recommendations.service import ItemsRequest, RecommendationServices, Scores, plan_list, rank_plan
from reco.records import Event, Item, item_name
from reco.schemas.chat import ChatItem, ChatRequest, ChatResponse
from reco.schemas.recommendation import ItemsQuery

RECO_TYPE = "chat_to_items"
ENDPOINT = "chat"
# "show me those again": the shopper asks for items already shown.
_AGAIN = re.compile(r"\b(again|once more|those ones|same ones|show (?:me )?(?:them|those))\b", re.IGNORECASE)
TAG_WEIGHT = 0.2  # items with every wished tag ("birthday" and "for dad") before those with one
OUT_OF_STOCK_PENALTY = 10.0  # below every available item (blended scores are within 0..2)
EVENT_WEIGHTS = {"purchase": 5.0, "add_to_cart": 3.0}  # request events' types the model may not know


@dataclass(frozen=True)
class ChatServices:
    recommendations: RecommendationServices
    conversations: ConversationRepository
    items: ItemDetailsReader
    language_model: ChatLanguageModel | None = None
    price_property: str = "price"
    category_property: str = "category"


def chat_turn(
    caller: Identity, request: ChatRequest, services: ChatServices, *, request_id: str, now: datetime | None = None
) -> ChatResponse:
    now = now or datetime.now(UTC)
    tenant = caller.tenant
    conversation = _conversation(caller, request, services, now)
    requester = Requester(
        user_id=request.user_id or conversation.user_id,
        session_id=request.session_id or conversation.session_id,
        params={"conversation_id": conversation.conversation_id, "turn": _next_number(conversation)},
    )
    plan = plan_list(tenant, ItemsRequest(RECO_TYPE, ItemsQuery(), requester), services.recommendations, as_of=now)
    artifact = plan.serving.artifact
    vocabulary = _vocabulary(artifact)
    events = _events(tenant, request, services)
    constraints = _understand(request.message, conversation, vocabulary, events, services.language_model)
    history = [*_request_events(request, now), *plan.facts.scored_events()]
    scores, matched, _ = blended_scores(artifact, constraints, requester.user_id, history, services.category_property)
    scores = scores + TAG_WEIGHT * tag_matches(artifact, constraints)
    scores[unavailable(artifact)] -= OUT_OF_STOCK_PENALTY
    repeat = _asks_again(request.message)
    masks = constraint_masks(artifact, constraints, services.price_property, [] if repeat else conversation.shown())
    base = np.ones(len(scores), dtype=bool)
    if matched is not None and matched.any():
        # The shopper named things the catalog has: only those answer. When the message also named
        # values (a category …) that none of the matching items has, the values win and the words only
        # rank: "a desk for heavy tools" is a desk, not a heavy-duty skillet.
        named = all_of({k: m for k, m in masks.items() if k.startswith("include:")}, len(scores))
        if (matched & named).any():
            base &= matched
    elif matched is not None and not (constraints.include or constraints.anchor_item_id):
        base[:] = False  # words the catalog does not know, and nothing else to go on
    if constraints.vague and not (repeat and conversation.last is not None and conversation.last.items):
        base[:] = False  # (but "show me those again" needs no new words: the last turn's wishes stand)
    allowed = base & all_of(masks, len(scores))
    run = rank_plan(plan, Scores(scores, np.zeros(len(scores), dtype=bool)), request.limit, restrict=allowed)
    rows = run.rows
    ids = [str(i) for i in artifact.item_ids[rows].tolist()]
    catalog = services.items.get_items(tenant, ids) if ids else {}
    items = [_chat_item(item_id, catalog.get(item_id), services.price_property) for item_id in ids]
    grounding = [_grounding(item, catalog.get(item.item_id)) for item in items]
    blocker = blocking(masks, base) if not ids and base.any() else None
    matched_text = matched is not None and bool(matched.any())
    reply = _reply(request.message, constraints, grounding, vocabulary, services, blocker, matched_text)
    turn = Turn(
        number=_next_number(conversation),
        message=request.message,
        reply=reply,
        constraints=constraints.as_dict(),
        items=ids,
        prices=[float(i.price) for i in items if i.price is not None],
        created_at=now,
    )
    if not services.conversations.append(tenant, conversation, turn):
        raise Conflict(
            "another message of this conversation was answered at the same moment: send this one again",
            data={"conversation_id": conversation.conversation_id},
        )
    services.recommendations.decisions.record(
        tenant,
        Decision(
            rec_id=request_id,
            endpoint=ENDPOINT,
            items=ids,
            scores=[round(float(scores[r]), 6) for r in rows],
            user_id=requester.user_id,
            session_id=requester.session_id,
            model_id=plan.serving.record.model_id,
            model_version=plan.serving.version,
            context={
                "conversation_id": conversation.conversation_id,
                "turn": turn.number,
                "constraints": turn.constraints,
                "evaluated_scenarios": plan.resolution.evaluated_scenarios,
            },
            request_id=request_id,
        ),
    )
    return ChatResponse(conversation_id=conversation.conversation_id, message=reply, items=items)


def _conversation(caller: Identity, request: ChatRequest, services: ChatServices, now: datetime) -> Conversation:
    conversation_id = request.conversation_id
    found = services.conversations.get(caller.tenant, conversation_id) if conversation_id is not None else None
    if found is None:
        # Ids the caller chooses are normal (chat-api.txt's own example sends one): an id not seen before
        # (or expired) starts a conversation under it.
        new_id = conversation_id or str(uuid.uuid4())
        return Conversation(new_id, request.user_id, request.session_id, now, subject=caller.subject)
    if not found.may_be_continued_by(caller):
        raise ConversationNotFound(
            f"conversation '{conversation_id}' is not one this token may continue: "
            "omit conversation_id, or choose another id, to start a conversation",
            data={"conversation_id": conversation_id},
        )
    if _next_number(found) > MAX_TURNS:
        raise Conflict(
            f"conversation '{request.conversation_id}' has {MAX_TURNS} turns: start a new one (omit conversation_id)",
            data={"conversation_id": request.conversation_id},
        )
    return found


def _asks_again(message: str) -> bool:
    """Whether the shopper asks for items already shown ("show me those again"; "start again" is a fresh start)."""
    return bool(_AGAIN.search(message)) and not RESET.search(normalize(message))


def _next_number(conversation: Conversation) -> int:
    """The number of the turn to come: after the last stored one (not the count of the turns read: the
    oldest rows of a long-lived conversation may have expired, and their numbers stay taken)."""
    last = conversation.last
    return last.number + 1 if last is not None else 1


def _vocabulary(artifact: ModelArtifact) -> CatalogVocabulary:
    """The catalog's values to match words against, once per loaded artifact."""
    vocabulary = artifact.derived.get("chat_vocabulary")
    if not isinstance(vocabulary, CatalogVocabulary):
        vocabulary = CatalogVocabulary.from_columns(artifact.columns)
        artifact.derived["chat_vocabulary"] = vocabulary
    return vocabulary


def _events(tenant: str, request: ChatRequest, services: ChatServices) -> list[ChatEvent]:
    """The request's events, newest first, with their items' titles (what "the desk I looked at" means)."""
    ids = [e.item_id for e in request.events if e.item_id]
    catalog = services.items.get_items(tenant, ids) if ids else {}
    events = [
        ChatEvent(
            timestamp=e.timestamp,
            type=e.type,
            item_id=e.item_id,
            description=e.description,
            title=item_name(catalog.get(e.item_id)) if e.item_id else None,
        )
        for e in request.events
    ]
    return sorted(events, key=lambda e: e.timestamp, reverse=True)


def _request_events(request: ChatRequest, now: datetime) -> list[Event]:
    """The request's item events as history the model folds in (browse and click count as views)."""
    found = []
    for index, event in enumerate(request.events):
        if event.item_id is None:
            continue
        kind = event.type if event.type in EVENT_WEIGHTS else "view"
        found.append(Event(f"chat-{index}", event.item_id, kind, min(event.timestamp, now)))
    return found


def _understand(
    message: str,
    conversation: Conversation,
    vocabulary: CatalogVocabulary,
    events: Sequence[ChatEvent],
    model: ChatLanguageModel | None,
) -> Constraints:
    last = conversation.last
    previous = Constraints.from_dict(last.constraints) if last is not None else None
    shown_prices = list(last.prices) if last is not None else []
    built_in = understand(message, vocabulary, previous=previous, events=events, shown_prices=shown_prices)
    if model is None:
        return built_in
    history = [(t.message, t.reply) for t in conversation.turns[-6:]]
    read = model.interpret(message, history, vocabulary.values)
    if read is None:
        return built_in
    try:
        # The model reads the words; what only the built-in reading knows (the anchor, carried-over
        # refinements) stays.
        merged = {**built_in.as_dict(), **{k: v for k, v in read.items() if v is not None}}
        merged["include"], merged["exclude"] = _merged_values(built_in, read)
        return Constraints.from_dict(merged)
    except (TypeError, ValueError, KeyError):
        return built_in


def _merged_values(built_in: Constraints, read: Mapping[str, Any]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(include, exclude) of the model's reading over the built-in one, as the built-in refines a turn: the
    model's values replace the built-in ones per property ("lamps" after "desks"), not all of them ("for
    kids" after "books" still wants books); exclusions add up; a value included lifts its exclusion and
    vice versa."""
    wanted, unwanted = _values_of(read.get("include")), _values_of(read.get("exclude"))
    include = {name: list(values) for name, values in built_in.include.items()} | wanted
    exclude = {name: list(values) for name, values in built_in.exclude.items()}
    for name, values in unwanted.items():
        exclude[name] = list(dict.fromkeys([*exclude.get(name, []), *values]))
        include[name] = [v for v in include.get(name, []) if v not in values]
    for name, values in wanted.items():
        exclude[name] = [v for v in exclude.get(name, []) if v not in values]
    return include, exclude


def _values_of(value: Any) -> dict[str, list[str]]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): [v for v in vs if isinstance(v, str)] for k, vs in value.items() if isinstance(vs, list | tuple)}


def _reply(
    message: str,
    constraints: Constraints,
    items: Sequence[GroundingItem],
    vocabulary: CatalogVocabulary,
    services: ChatServices,
    blocker: str | None,
    matched_text: bool,
) -> str:
    if services.language_model is not None:
        worded = services.language_model.reply(message, items, constraints.as_dict())
        if worded:
            return worded
    if not items:
        return clarifying_question(constraints, vocabulary.values, services.category_property, blocker, matched_text)
    return grounded_reply(constraints, items, services.category_property)


def _chat_item(item_id: str, item: Item | None, price_property: str) -> ChatItem:
    properties: Mapping[str, Any] = item.properties if item is not None else {}
    price = properties.get(price_property)
    description = properties.get("description")
    return ChatItem(
        item_id=item_id,
        title=item_name(item),
        status=_status(properties),
        description=description if isinstance(description, str) else None,
        price=f"{price:.2f}" if isinstance(price, int | float) and not isinstance(price, bool) else None,
    )


def _status(properties: Mapping[str, Any]) -> str:
    """The catalog's own ``status`` if it has one; else out of stock when ``stock`` / ``in_stock`` says so."""
    status = properties.get("status")
    if isinstance(status, str) and status:
        return status
    stock, in_stock = properties.get("stock"), properties.get("in_stock")
    if (isinstance(stock, int | float) and not isinstance(stock, bool) and stock <= 0) or in_stock is False:
        return "out_of_stock"
    return "active"


def _grounding(item: ChatItem, stored: Item | None) -> GroundingItem:
    properties = dict(stored.properties) if stored is not None else {}
    shown = {k: v for k, v in properties.items() if k not in ("title", "name", "description", "price")}
    return GroundingItem(item.item_id, item.title or item.item_id, item.price, item.description, shown)
