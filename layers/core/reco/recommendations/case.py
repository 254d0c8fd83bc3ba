"""run_case: a resolved case applied to one score per catalog item, vectorised over property columns.

Order of work: filters that may be preloaded and every exclusion become one boolean mask over the
catalog; ``disable_preload`` filters are evaluated on the preselected pool only; diversity reranks
greedily (exactly, see ``reco.scenarios.ranking``); a case sequence runs its blocks one after the
other, each without the items of the blocks before it. The result is the ranked list down to the
depth a page needs: pages are slices of one deterministic list, so they never overlap or skip.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reco.errors import ItemPropertyNotFound, WrongDataType, WrongOpUse
from reco.models.artifact import ModelArtifact
from reco.models.columns import column_key
from reco.models.interactions import F32, I64, Bools
from reco.recommendations.facts import RequestFacts
from reco.scenarios.filter_rules import check_filter
from reco.scenarios.filters import filter_mask
from reco.scenarios.ranking import DiversityRule, ranked_rows
from reco.schemas.scenarios import Case, ItemFilter, RerankingRule, is_user_property_ref


@dataclass
class CaseRun:
    """The ranked rows (down to the requested depth) and what the caller should be told."""

    rows: I64
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Block:
    amt: int | None
    filters: Sequence[ItemFilter]
    reranking: Sequence[RerankingRule]


def run_case(
    case: Case, artifact: ModelArtifact, scores: F32, excluded: Bools, facts: RequestFacts, depth: int
) -> CaseRun:
    """The first ``depth`` rows of the case's ranked list over ``scores`` (``excluded`` rows never)."""
    run = CaseRun(np.empty(0, dtype=np.int64))
    allowed = ~excluded & np.isfinite(scores)
    preload, post = _split_filters(case.filters or [], artifact, facts, run.warnings)
    allowed &= _all_of(preload, artifact, None, allowed.shape[0])
    allowed &= ~_exclusions(case, artifact, facts)
    blocks = (
        [_Block(s.amt, s.filters or [], s.reranking or case.reranking or []) for s in case.case_sequence.sequence]
        if case.case_sequence is not None
        else [_Block(None, [], case.reranking or [])]
    )
    taken: list[I64] = []
    for block in blocks:
        wanted = depth - sum(len(t) for t in taken)
        if block.amt is not None:
            wanted = min(wanted, block.amt)
        if wanted <= 0:
            continue
        block_pre, block_post = _split_filters(block.filters, artifact, facts, run.warnings)
        mask = allowed & _all_of(block_pre, artifact, None, allowed.shape[0])
        for rows in taken:
            mask[rows] = False
        accept = _accepting([*post, *block_post], artifact)
        rules = [_diversity(rule) for rule in block.reranking]
        taken.append(ranked_rows(scores, mask, wanted, columns=artifact.columns, rules=rules, accept=accept))
    run.rows = np.concatenate(taken) if taken else run.rows
    return run


Resolved = tuple[str, str, Any]


def _split_filters(
    filters: Sequence[ItemFilter], artifact: ModelArtifact, facts: RequestFacts, warnings: list[str]
) -> tuple[list[Resolved], list[Resolved]]:
    """(preloaded, post-preselection) filters with ``user_property`` values filled in.

    A filter whose user property is not set is skipped, with a warning: a shopper who never chose
    a category still gets recommendations.
    """
    preload: list[Resolved] = []
    post: list[Resolved] = []
    for rule in filters:
        value = rule.value
        op: str = rule.op
        if is_user_property_ref(value):
            assert isinstance(value, dict)
            name = str(value["value"])
            resolved = _from_user_property(rule, facts.user_property(name), artifact)
            if resolved is None:
                warnings.append(
                    f"user property '{name}' is not set or does not fit the filter on '{rule.property_name}' "
                    f"({rule.op}): filter skipped"
                )
                continue
            op, value = resolved
        (post if rule.disable_preload else preload).append((rule.property_name, op, value))
    return preload, post


_AS_LIST = {"eq": "in", "neq": "notin"}


def _from_user_property(rule: ItemFilter, value: Any, artifact: ModelArtifact) -> tuple[str, Any] | None:
    """(op, value) for a filter whose value is a user's property, or None when it cannot apply.

    A shopper's profile is not an API client: a property that is missing, empty, or of a type the
    filter cannot use skips the filter rather than failing the page. A list under eq / neq means
    "any of" / "none of"; a single value under in / notin is a one-element list.
    """
    op: str = rule.op
    if value in (None, "", [], {}) or isinstance(value, dict):
        return None
    if isinstance(value, list) and op in _AS_LIST:
        op = _AS_LIST[op]
    elif not isinstance(value, list) and op in ("in", "notin"):
        value = [value]
    columns = artifact.columns
    if rule.property_name not in columns.names():
        return op, value  # filter_mask reports the unknown property itself
    try:
        check_filter(rule.property_name, op, value, columns.kind(rule.property_name))
    except (WrongDataType, WrongOpUse):
        return None
    return op, value


# Cached whole-catalog filter masks per artifact, by bytes: 16 MiB is 160 masks at 100k items.
MASK_CACHE_BYTES = 16 * 1024 * 1024


def _evaluate(filters: Sequence[Resolved], artifact: ModelArtifact, rows: I64 | None, n: int) -> Bools:
    mask = np.ones(n if rows is None else len(rows), dtype=bool)
    for name, op, value in filters:
        mask &= filter_mask(artifact.columns, artifact.texts, name, op, value, rows)
    return mask


def _all_of(filters: Sequence[Resolved], artifact: ModelArtifact, rows: I64 | None, n: int) -> Bools:
    """The items passing every filter; whole-catalog masks are computed once per artifact (read-only)."""
    if rows is not None or not filters:
        return _evaluate(filters, artifact, rows, n)
    key = json.dumps(list(filters), sort_keys=True, separators=(",", ":"))
    cache = artifact.filter_masks
    cached = cache.get(key)
    if cached is not None:
        return cached  # (least recently *computed* goes first: no reordering shared between threads)
    mask = _evaluate(filters, artifact, None, n)
    keep_mask(cache, key, mask, n)
    return mask


def keep_mask(cache: OrderedDict[str, Bools], key: str, mask: Bools, n: int) -> None:
    """Store a whole-catalog mask (made read-only) in a loaded artifact's ``filter_masks``, oldest
    computed dropped first beyond ``MASK_CACHE_BYTES``; scenario and list filters share the budget."""
    mask.flags.writeable = False
    cache[key] = mask
    while len(cache) > max(1, MASK_CACHE_BYTES // max(n, 1)):
        try:
            cache.popitem(last=False)
        except KeyError:  # another thread of the local runner emptied it first
            break


def _accepting(filters: Sequence[Resolved], artifact: ModelArtifact) -> Callable[[I64], Bools] | None:
    if not filters:
        return None
    return lambda rows: _all_of(filters, artifact, rows, len(rows))


def _exclusions(case: Case, artifact: ModelArtifact, facts: RequestFacts) -> Bools:
    """Items the case excludes because of the requester's history."""
    excluded = np.zeros(len(artifact.item_ids), dtype=bool)
    if case.exclude_rated_items:
        excluded[_known(artifact, facts.interacted_items())] = True
    if case.exclude_items_with_interaction_types:
        excluded[_known(artifact, facts.interacted_items(case.exclude_items_with_interaction_types))] = True
    for rule in case.exclude_props_of_items_with_interaction_types or []:
        rows = _known(artifact, facts.interacted_items(rule.interaction_types))
        excluded |= _sharing(artifact, rule.property_name, rows)
    return excluded


def _known(artifact: ModelArtifact, item_ids: Sequence[str]) -> I64:
    rows = artifact.item_rows(list(item_ids)) if item_ids else np.empty(0, dtype=np.int64)
    return rows[rows >= 0]


def _sharing(artifact: ModelArtifact, name: str, rows: I64) -> Bools:
    """Items sharing a value of property ``name`` with any of ``rows`` (codes compared, no value lists)."""
    columns = artifact.columns
    if name not in columns.names():
        raise ItemPropertyNotFound(
            f"item property '{name}' (exclude_props_of_items_with_interaction_types) is unknown to the serving "
            "model's items: retrain after items carry it, or fix the name",
            data={"property_name": name},
        )
    n = len(artifact.item_ids)
    if not len(rows):
        return np.zeros(n, dtype=bool)
    kind, key = columns.kind(name), column_key(name)
    column = columns.columns[key]
    if kind == "number":
        values = column[rows]
        return np.isin(column, values[~np.isnan(values)])
    if kind in ("bool", "string"):
        values = column[rows]
        return np.isin(column, values[values >= 0])
    indptr = columns.columns[f"{key}/indptr"]
    lengths = np.diff(indptr)
    owners = np.repeat(np.arange(n), lengths)
    mine = np.zeros(n, dtype=bool)
    mine[rows] = True
    shared = np.isin(column, column[mine[owners]])
    return np.bincount(owners[shared], minlength=n) > 0


def _diversity(rule: RerankingRule) -> DiversityRule:
    options = rule.options
    return DiversityRule(
        property_name=rule.property_name,
        weight=rule.weight,
        activation_period=options.activation_period if options else None,
        max_activation_count=options.max_activation_count if options else None,
        default_malus=(options.default_malus or 0.0) if options else 0.0,
    )
