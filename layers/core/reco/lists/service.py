"""recommendation_list: the domain behind GET /v1/recommendations.

One request: read the context (scenario, default filters, grouping, viewed-item exclusion), resolve
the scenario for the entity (a user's profile, a session, or an item's neighbours), score the
catalog, apply the case with the request's filters, and cut the page or the auto-mode section.
Every served list is logged as a decision under the request id, with the ids and SDK headers the
caller sent, so that events carrying that id can be attributed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

import numpy as np

from reco.decisions import Decision
from reco.errors import WrongParameter
from reco.lists.contexts import context_filters, reco_type_of
from reco.lists.cursor import (
    AutoCursor,
    PageCursor,
    check_digest,
    decode_list_cursor,
    encode_auto_cursor,
    encode_page_cursor,
    is_page_cursor,
)
from reco.lists.filters import ListFilter, check_filter_count, filters_mask, parse_filter, parse_scope
from reco.lists.groups import group_offset_after, group_rows
from reco.lists.query import ListQuery, ListServices
from reco.lists.scores import entity_scores
from reco.lists.sections import TRENDING, next_position, remember, section_plans, section_scores
from reco.lists.views import ListView, render_groups, render_items, segments
from reco.models.interactions import I64, Bools
from reco.recommendations.facts import Requester
from reco.recommendations.service import (
    MAX_DEPTH,
    ItemsRequest,
    ListPlan,
    Scores,
    plan_list,
    rank_plan,
)
from reco.schemas.lists import (
    DEFAULT_LIMIT,
    Context,
    Recommendation,
    RecommendationGroup,
    RecommendationList,
    Section,
    context_number,
)
from reco.schemas.recommendation import ItemsQuery

# Sections one auto-mode call may find empty (each scores the catalog) before it serves trending.
MAX_EMPTY_SECTIONS = 16


def recommendation_list(
    tenant: str,
    query: ListQuery,
    services: ListServices,
    *,
    subject: str | None,
    request_id: str,
    now: datetime | None = None,
) -> RecommendationList:
    started = time.perf_counter()
    context = _context(tenant, query, services)
    entity_type = query.entity_type or (context.entity_type if context is not None else "User")
    limit = query.limit or (context.limit if context is not None else None) or DEFAULT_LIMIT
    filters, ignored = _filters(query, context)
    cursor, after_item = _cursor(query)
    as_of = cursor.as_of if cursor is not None else (now or datetime.now(UTC))
    request = _items_request(query, context, entity_type, subject)
    identity = [
        context.model_dump(mode="json", exclude={"created_at", "updated_at"}) if context else None,
        [f.text for f in filters],
        query.name,
        query.description,
        query.mode,
        query.window_days if query.mode == "auto" else None,
    ]
    sent = cursor
    parameter = "cursor" if query.cursor else "starting_after"
    plan = plan_list(
        tenant,
        request,
        services.recommendations,
        as_of=as_of,
        identity=identity,
        check_digest=(lambda digest: check_digest(sent.digest, digest, parameter)) if sent is not None else None,
    )
    artifact = plan.serving.artifact
    filter_warnings: list[str] = []
    allowed = filters_mask(
        filters, artifact.columns, artifact.texts, cache=artifact.filter_masks, warnings=filter_warnings
    ).copy()
    viewed = _viewed(context, plan, allowed)
    view = ListView(
        tenant=tenant,
        plan=plan,
        context=context,
        filters=filters,
        viewed=viewed,
        items=services.items,
        entity_name=query.name,
        private=not query.reveal_history,
    )
    warnings = [*(f"scope key '{key}' is ignored: only filters is honoured" for key in ignored), *filter_warnings]
    if query.mode == "auto":
        if entity_type != "User":
            raise WrongParameter(
                "mode=auto builds sections from a user's recent activity: use entity_type=User",
                data={"parameter": "mode"},
            )
        auto = cursor if isinstance(cursor, AutoCursor) else None
        response = _auto(query, services, plan, view, allowed, limit, auto, request_id)
    else:
        offset = cursor.offset if isinstance(cursor, PageCursor) else 0
        response = _single(query, services, plan, view, allowed, limit, offset, after_item, request_id)
    response.explanation["warnings"] = [*warnings, *response.explanation.get("warnings", [])]  # type: ignore[misc]
    response.processing_time_ms = int((time.perf_counter() - started) * 1000)
    _log(services, plan, query, response, request_id, view)
    return response


# --- request parsing --------------------------------------------------------------------------------


def _context(tenant: str, query: ListQuery, services: ListServices) -> Context | None:
    if query.context_id is None:
        return None
    from reco.lists.contexts import ContextServices, get_context

    number = context_number(query.context_id)
    return get_context(tenant, number, ContextServices(services.contexts, _NoScenarios()))


class _NoScenarios:
    def get(self, tenant: str, reco_type: str, name: str) -> Any:
        return None


def _filters(query: ListQuery, context: Context | None) -> tuple[list[ListFilter], list[str]]:
    filters = context_filters(context) if context is not None else []
    filters.extend(parse_filter(text) for text in query.filters)
    ignored: list[str] = []
    if query.scope is not None:
        scoped, ignored = parse_scope(query.scope)
        filters.extend(scoped)
    check_filter_count(filters)
    return filters, ignored


def _cursor(query: ListQuery) -> tuple[PageCursor | AutoCursor | None, str | None]:
    """(the opaque cursor sent, if any; an item id to start after, if starting_after names one)."""
    if query.cursor is not None:
        cursor = decode_list_cursor(query.cursor, "cursor")
        wanted = AutoCursor if query.mode == "auto" else PageCursor
        if not isinstance(cursor, wanted):
            other = "single" if query.mode == "auto" else "auto"
            raise WrongParameter(
                f"cursor was issued in mode={other}: send it with mode={other}, or drop it",
                data={"parameter": "cursor"},
            )
        return cursor, None
    if query.starting_after is None:
        return None, None
    if query.mode == "auto":
        raise WrongParameter(
            "starting_after pages single-mode lists: in mode=auto pass the previous response's next_cursor as cursor",
            data={"parameter": "starting_after"},
        )
    if is_page_cursor(query.starting_after):
        return decode_list_cursor(query.starting_after, "starting_after"), None
    return None, query.starting_after


def _items_request(query: ListQuery, context: Context | None, entity_type: str, subject: str | None) -> ItemsRequest:
    params: dict[str, Any] = {
        "entity_type": entity_type,
        "mode": query.mode,
        "context_id": context.id if context is not None else None,
        "platform": query.client.platform,
        "sdk": query.client.sdk,
    }
    scenario = context.scenario if context is not None else None
    saved_by = f"context {context.id}" if context is not None else None
    session_id = query.session_id or query.anonymous_id
    if entity_type == "Item":
        # The reference names no item parameter: a client may send the entity's id as user_id.
        item_id = query.item_id or query.user_id
        user_id = query.user_id if query.item_id is not None else None
        if item_id is None:
            raise WrongParameter(
                "entity_type=Item lists items similar to an item: pass its id as item_id",
                data={"parameter": "item_id"},
            )
        requester = Requester(user_id=user_id, session_id=session_id, item_id=item_id, params=params)
        return ItemsRequest(reco_type_of("Item"), ItemsQuery(scenario=scenario), requester, saved_by)
    user_id = query.user_id or subject
    requester = Requester(user_id=user_id, session_id=session_id, params={k: v for k, v in params.items() if v})
    reco_type = "profile_to_items" if user_id is not None else "session_to_items"
    return ItemsRequest(reco_type, ItemsQuery(scenario=scenario), requester, saved_by)


def _viewed(context: Context | None, plan: ListPlan, allowed: Bools) -> dict[str, Any] | None:
    """Apply the context's viewed-item exclusion to ``allowed``; what it did, for the response."""
    rule = context.excluded_viewed_items if context is not None else None
    if rule is None or not rule.enabled:
        return None
    since = plan.facts.as_of - timedelta(days=rule.window_days) if rule.window_days else None
    types = set(rule.interaction_types)
    seen = {e.item_id for e in plan.facts.events() if e.type in types and (since is None or e.timestamp >= since)}
    rows = plan.serving.artifact.item_rows(sorted(seen)) if seen else np.empty(0, dtype=np.int64)
    rows = rows[rows >= 0]
    allowed[rows] = False
    return {
        "enabled": True,
        "interaction_types": list(rule.interaction_types),
        "window_days": rule.window_days,
        "count": len(rows),  # items of the serving catalog actually left out
    }


# --- single mode and auto mode ----------------------------------------------------------------------


def _single(
    query: ListQuery,
    services: ListServices,
    plan: ListPlan,
    view: ListView,
    allowed: Bools,
    limit: int,
    offset: int,
    after_item: str | None,
    request_id: str,
) -> RecommendationList:
    scores, source_name = entity_scores(plan, services.recommendations, _text(query))
    view = replace(view, scores=scores, source_name=source_name)
    context = view.context
    data: Sequence[Recommendation | RecommendationGroup]
    if context is not None and context.group_by:
        run = rank_plan(plan, scores, MAX_DEPTH, restrict=allowed)
        groups = group_rows(plan.serving.artifact, context.group_by, run.rows)
        if after_item is not None:
            found = group_offset_after(groups, _after_row(plan, after_item), after_item)
            offset = found if found is not None else _not_in_list(after_item)
        data, more = render_groups(view, groups, context.group_by, context.group_size, offset, limit)
    else:
        if after_item is not None:
            offset = _offset_after(rank_plan(plan, scores, MAX_DEPTH, restrict=allowed).rows, plan, after_item, 0)
        depth = min(offset + limit, MAX_DEPTH)
        run = rank_plan(plan, scores, depth + 1, restrict=allowed)
        data = render_items(view, run.rows[offset:depth], offset)
        more = len(run.rows) > depth and depth < MAX_DEPTH
    next_cursor = encode_page_cursor(PageCursor(offset + limit, plan.facts.as_of, plan.digest)) if more else None
    return view.response(
        request_id, data, more, next_cursor, limit, "single", [*scores.warnings, *run.warnings], segments(plan)
    )


def _after_row(plan: ListPlan, after: str) -> int:
    """The row of the item ``after`` names: ``rec_<item_id>``, else the raw item id (which may start with rec_)."""
    names = [after.removeprefix("rec_"), after] if after.startswith("rec_") else [after]
    rows = plan.serving.artifact.item_rows(names)
    return next((int(row) for row in rows.tolist() if row >= 0), -1)


def _not_in_list(after: str) -> NoReturn:
    shown = after if len(after) <= 64 else f"{after[:61]}..."
    raise WrongParameter(
        f"starting_after '{shown}' is not an item of this list: pass a recommendation id (or item id) "
        "from the previous page, or its next_cursor",
        data={"parameter": "starting_after"},
    )


def _offset_after(rows: I64, plan: ListPlan, after: str | None, offset: int) -> int:
    if after is None:
        return offset
    row = _after_row(plan, after)
    where = np.flatnonzero(rows == row) if row >= 0 else np.empty(0, dtype=np.int64)
    if len(where) == 0:
        _not_in_list(after)
    return int(where[0]) + 1


def _auto(
    query: ListQuery,
    services: ListServices,
    plan: ListPlan,
    view: ListView,
    allowed: Bools,
    limit: int,
    cursor: AutoCursor | None,
    request_id: str,
) -> RecommendationList:
    artifact, facts = plan.serving.artifact, plan.facts
    category = services.category_property
    plans = section_plans(
        facts.events(),
        artifact,
        facts.as_of,
        window_days=query.window_days,
        candidate_limit=query.candidate_limit,
        category_property=category,
    )
    anchor_rows = [p.anchor_row for p in plans if p.anchor_row is not None]
    served = cursor.served if cursor is not None else ()
    empty = 0
    for position in range(next_position(plans, served), len(plans)):
        section = plans[position]
        if section.key in served:
            continue
        if empty >= MAX_EMPTY_SECTIONS and section.key != TRENDING:
            continue  # bounded work per call: whatever filters emptied so far, trending ends the feed
        values, section_allowed = section_scores(section, artifact, anchor_rows, category)
        scores = Scores(values, np.zeros(len(values), dtype=bool))
        run = rank_plan(plan, scores, limit, restrict=allowed & section_allowed)
        if len(run.rows) == 0:
            empty += 1
            continue
        names = view.names([section.anchor_item_id])
        source = {"because_you_viewed": "item_similarity", "popular_in_category": "popular_in_category"}
        section_view = replace(
            view,
            scores=scores,
            source_name=source.get(section.type, TRENDING),
            entity_name=names.get(section.anchor_item_id or ""),
            category=section.category,
        )
        data = render_items(section_view, run.rows, 0)
        done = position == len(plans) - 1
        keys = remember(served, section.key, query.served_cap)
        next_cursor = None if done else encode_auto_cursor(AutoCursor(keys, facts.as_of, plan.digest))
        shown = Section(
            key=section.key,
            type=section.type,
            title=section.title(names.get(section.anchor_item_id or "")),
            anchor_item_id=section.anchor_item_id,
            category=section.category,
        )
        response = section_view.response(
            request_id, data, not done, next_cursor, limit, "auto", run.warnings, segments(plan)
        )
        response.section, response.done = shown, done
        return response
    response = view.response(request_id, [], False, None, limit, "auto", [], segments(plan))
    response.section, response.done = None, True
    return response


def _text(query: ListQuery) -> str | None:
    text = " ".join(t for t in (query.name, query.description) if t)
    return text or None


def _log(
    services: ListServices,
    plan: ListPlan,
    query: ListQuery,
    response: RecommendationList,
    request_id: str,
    view: ListView,
) -> None:
    requester, resolution = plan.facts.requester, plan.resolution
    items, scores = view.served(response.data)
    client = {k: v for k, v in vars(query.client).items() if v is not None}
    context: dict[str, Any] = {
        "reco_type": resolution.reco_type,
        "scenario": plan.request.query.scenario,
        "evaluated_scenarios": resolution.evaluated_scenarios,
        "experiments": response.experiments,
        "context_id": response.pipeline_id,
        "filters": [f.text for f in view.filters],
        "mode": response.mode,
        "section": response.section.key if response.section is not None else None,
        "client": client,
        "entity_type": "Item" if requester.item_id is not None and resolution.reco_type == "item_to_items" else "User",
    }
    if requester.item_id is not None:
        context["item_id"] = requester.item_id
    if query.name or query.description:
        context["entity_text"] = {"name": query.name, "description": query.description}
    services.recommendations.decisions.record(
        plan.tenant,
        Decision(
            rec_id=request_id,
            endpoint="v1_recommendations",
            items=items,
            scores=scores,
            user_id=requester.user_id,
            session_id=query.session_id,
            anonymous_id=query.anonymous_id,
            model_id=plan.serving.record.model_id,
            model_version=plan.serving.version,
            context=context,
            fallback="trending" if response.cold_start_fallback_used else None,
            request_id=request_id,
        ),
    )
