"""Chat retrieval: which catalog items answer a turn, vectorised over the catalog.

Scores blend, per item (each part scaled to 0..1 over the catalog):

- **relevance**: BM25F of the turn's text over title, category, tags, brand, color, description
  (``ModelArtifact.bm25``), each word matching its singular and plural forms (:func:`text_relevance`),
  weight 0.6;
- **personal**: the model's scores for the shopper's history (stored events of the user / session
  plus the request's events), weight 0.25;
- **anchor**: similarity to an item the shopper referred to ("like the desk I looked at"), 0.3, and
  0.4 more for items of the anchor's category (the shopper asked for desks, whatever else they like);
- **trending**: a small prior (0.05) that orders otherwise equal items.

Constraints become one boolean mask: price bounds (a budget or premium wish is the cheapest /
dearest third of what else qualifies), included and excluded property values, items already shown
in the conversation (unless the shopper asks for them again). When the text names things the
catalog has, only items that match it qualify.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reco.chat.lexicon import stem
from reco.chat.understanding import Constraints
from reco.models.artifact import ModelArtifact
from reco.models.bm25 import query_tokens
from reco.models.columns import column_key
from reco.models.interactions import F32, Bools
from reco.records import Event
from reco.serving.scoring import score_candidates

RELEVANCE, PERSONAL, ANCHOR, SAME_CATEGORY, PRIOR = 0.6, 0.25, 0.3, 0.4, 0.05


def _unit(values: F32, mask: Bools | None = None) -> F32:
    """``values`` scaled to 0..1 (by their range over ``mask`` if given); constant → zeros."""
    finite = np.isfinite(values) if mask is None else (np.isfinite(values) & mask)
    if not finite.any():
        return np.zeros(len(values), dtype=np.float32)
    low, high = float(values[finite].min()), float(values[finite].max())
    if high <= low:
        return np.zeros(len(values), dtype=np.float32)
    scaled = (np.where(np.isfinite(values), values, low) - low) / (high - low)
    return np.asarray(scaled, dtype=np.float32)


def blended_scores(
    artifact: ModelArtifact,
    constraints: Constraints,
    user_id: str | None,
    history: Sequence[Event],
    category_property: str = "category",
) -> tuple[F32, Bools | None, bool]:
    """(scores, the rows the text matched or None when there is no text, whether history personalised)."""
    n = len(artifact.item_ids)
    scores = PRIOR * _unit(np.asarray(artifact.trending, dtype=np.float32))
    matched: Bools | None = None
    if constraints.text.strip() and not artifact.bm25.is_empty:
        relevance = text_relevance(artifact, constraints.text)
        matched = relevance > 0
        scores = scores + RELEVANCE * _unit(relevance)
    personal, source = score_candidates(artifact, user_id, history, None)
    personalised = source.fallback is None
    if personalised:
        scores = scores + PERSONAL * _unit(np.asarray(personal, dtype=np.float32))
    if constraints.anchor_item_id is not None:
        row = int(artifact.item_rows([constraints.anchor_item_id])[0])
        if row >= 0:
            similar = artifact.model.similar_scores(row)
            similar[row] = np.nan  # the anchor itself is not an answer
            scores = scores + ANCHOR * _unit(similar)
            # "Like the desk I looked at" asks for desks: the anchor's category outweighs a taste for shoes.
            scores = scores + SAME_CATEGORY * _same_value(artifact, category_property, row)
            scores[row] = -np.inf
    return np.asarray(scores, dtype=np.float32).reshape(n), matched, personalised


def _same_value(artifact: ModelArtifact, name: str, row: int) -> F32:
    """1 for items sharing ``row``'s value of string property ``name`` (0 without the property)."""
    columns = artifact.columns
    n = len(artifact.item_ids)
    if name not in columns.names() or columns.kind(name) != "string":
        return np.zeros(n, dtype=np.float32)
    codes = columns.columns[column_key(name)]
    if codes[row] < 0:
        return np.zeros(n, dtype=np.float32)
    return np.asarray(codes == codes[row], dtype=np.float32)


def text_relevance(artifact: ModelArtifact, text: str) -> F32:
    """BM25 of ``text`` where each word also matches its other plural forms ("records" finds "Rock record 4",
    "earbud" "Sport Earbuds"), through the fold the understanding uses (:func:`reco.chat.lexicon.stem`): per
    word, the best of its forms' scores, so an item holding both forms is not counted twice."""
    index = artifact.bm25
    forms = artifact.derived.get("chat_word_forms")
    if not isinstance(forms, dict):
        forms = {}
        for token in index.vocabulary().tolist():
            forms.setdefault(stem(str(token)), []).append(str(token))
        artifact.derived["chat_word_forms"] = forms
    total = np.zeros(len(artifact.item_ids), dtype=np.float32)
    for word in query_tokens(text):
        variants = forms.get(stem(word)) or [word]
        total += np.max([index.scores(variant) for variant in variants], axis=0)
    return total


def constraint_masks(
    artifact: ModelArtifact, constraints: Constraints, price_property: str, shown: Sequence[str]
) -> dict[str, Bools]:
    """One mask per constraint, named (``price``, ``include:<property>``, ``exclude``, ``shown``) so that
    a turn that finds nothing can say which wish ruled everything out."""
    columns = artifact.columns
    n = len(artifact.item_ids)
    masks: dict[str, Bools] = {}
    names = set(columns.names())
    for name, values in constraints.include.items():
        if name in names and values:
            masks[f"include:{name}"] = columns.isin(name, list(_required(constraints, values)))
    excluded = np.zeros(n, dtype=bool)
    for name, values in constraints.exclude.items():
        if name in names and values:
            excluded |= columns.isin(name, list(values))
    if constraints.exclude_words and not artifact.bm25.is_empty:
        excluded |= text_relevance(artifact, " ".join(constraints.exclude_words)) > 0  # "without plastic"
    if excluded.any():
        masks["exclude"] = ~excluded
    if shown:
        rows = artifact.item_rows(list(shown))
        not_shown = np.ones(n, dtype=bool)
        not_shown[rows[rows >= 0]] = False
        masks["shown"] = not_shown
    if price_property in names and columns.kind(price_property) == "number":
        price = np.ones(n, dtype=bool)
        high = constraints.max_price
        if constraints.cheaper_than is not None:
            below = constraints.cheaper_than - 0.01  # strictly cheaper than what was shown
            high = below if high is None else min(high, below)
        if constraints.min_price is not None or high is not None:
            price &= columns.between(price_property, constraints.min_price, high)
        if constraints.budget or constraints.premium:
            others = np.logical_and.reduce(list(masks.values())) if masks else np.ones(n, dtype=bool)
            price &= _relative_price(artifact, constraints, price_property, others & price)
        if not price.all():
            masks["price"] = price
    return masks


def _required(constraints: Constraints, values: Sequence[str]) -> Sequence[str]:
    """The values an item must have one of: those naming the recipient ("for dad") when there are
    such, since a gift for dad is not any birthday gift; otherwise any of them."""
    if constraints.recipient:
        personal = [v for v in values if constraints.recipient in v.lower().split()]
        if personal:
            return personal
    return values


def all_of(masks: dict[str, Bools], n: int) -> Bools:
    allowed = np.ones(n, dtype=bool)
    for mask in masks.values():
        allowed &= mask
    return allowed


def blocking(masks: dict[str, Bools], base: Bools) -> str | None:
    """The one constraint whose removal would let something through (price first), if any."""
    order = sorted(masks, key=lambda name: (name != "price", name))
    for name in order:
        rest = base.copy()
        for other, mask in masks.items():
            if other != name:
                rest &= mask
        if rest.any():
            return name
    return None


def tag_matches(artifact: ModelArtifact, constraints: Constraints) -> F32:
    """How many of the wished values of array properties (tags) each item has, as a fraction: with
    "birthday" and "for dad" wished, items with both come before items with one."""
    columns = artifact.columns
    n = len(artifact.item_ids)
    wished = [
        (name, value)
        for name, values in constraints.include.items()
        if name in columns.names() and columns.kind(name) == "strings" and len(values) > 1
        for value in values
    ]
    if not wished:
        return np.zeros(n, dtype=np.float32)
    counts = np.zeros(n, dtype=np.float32)
    for name, value in wished:  # a handful of wished values, each one vectorised over the catalog
        counts += columns.isin(name, [value])
    return np.asarray(counts / len(wished), dtype=np.float32)


def unavailable(artifact: ModelArtifact) -> Bools:
    """Items out of stock (``stock`` ≤ 0 or ``in_stock`` false): shown only after every available one."""
    columns = artifact.columns
    n = len(artifact.item_ids)
    out = np.zeros(n, dtype=bool)
    names = set(columns.names())
    if "stock" in names and columns.kind("stock") == "number":
        stock = np.asarray(columns.columns[column_key("stock")], dtype=np.float64)
        out |= ~np.isnan(stock) & (stock <= 0)
    if "in_stock" in names and columns.kind("in_stock") == "bool":
        out |= np.asarray(columns.columns[column_key("in_stock")]) == 0
    return out


def _relative_price(artifact: ModelArtifact, constraints: Constraints, name: str, allowed: Bools) -> Bools:
    """A budget wish keeps the cheapest third of the qualifying items, a premium wish the dearest third."""
    budget, premium = constraints.budget, constraints.premium
    if not (budget or premium):
        return np.ones(len(allowed), dtype=bool)
    prices = np.asarray(artifact.columns.columns[column_key(name)], dtype=np.float64)
    known = allowed & ~np.isnan(prices)
    if not known.any():
        return np.ones(len(allowed), dtype=bool)
    if budget:
        return ~np.isnan(prices) & (prices <= np.quantile(prices[known], 1 / 3))
    return ~np.isnan(prices) & (prices >= np.quantile(prices[known], 2 / 3))
