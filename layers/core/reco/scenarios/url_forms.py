"""The URL-compatible forms of filters and reranking rules in query strings.

- filter: ``property:op:value`` (``genres:in:["Drama","War"]``, ``year:gte:1990``, ``tags:empty``);
  the value is read as JSON when it parses (numbers, booleans, lists, quoted strings), else as the
  string it is, so ``category:eq:books`` needs no quotes;
- reranking: ``property:diversity`` or ``property:diversity:<weight>``.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from reco.errors import WrongParameter
from reco.schemas.bounds import TooDeep, loads_bounded
from reco.schemas.scenarios import ItemFilter, RerankingRule


def _json_or_text(text: str) -> Any:
    try:
        return loads_bounded(text, "a filter value")
    except TooDeep as error:
        raise WrongParameter(f"{error}") from None
    except ValueError:
        return text


def _problem(error: ValidationError) -> str:
    return "; ".join(str(e.get("msg", "")).removeprefix("Value error, ") for e in error.errors())


def parse_url_filter(text: str) -> ItemFilter:
    parts = text.split(":", 2)
    if len(parts) < 2 or not parts[0]:
        raise WrongParameter(
            f"filter '{text}' is not property:op:value (e.g. year:gte:1990, category:eq:books, tags:notempty)",
            data={"parameter": "filters"},
        )
    fields: dict[str, Any] = {"property_name": parts[0], "op": parts[1]}
    if len(parts) == 3:
        fields["value"] = _json_or_text(parts[2])
    try:
        return ItemFilter.model_validate(fields)
    except ValidationError as error:
        raise WrongParameter(f"filter '{text}': {_problem(error)}", data={"parameter": "filters"}) from None


def parse_url_reranking(text: str) -> RerankingRule:
    parts = text.split(":")
    if len(parts) not in (2, 3) or not parts[0]:
        raise WrongParameter(
            f"reranking '{text}' is not property:diversity[:weight] (e.g. genres:diversity:0.5)",
            data={"parameter": "reranking"},
        )
    fields: dict[str, Any] = {"property_name": parts[0], "op": parts[1]}
    if len(parts) == 3:
        fields["weight"] = _json_or_text(parts[2])
    try:
        return RerankingRule.model_validate(fields)
    except ValidationError as error:
        raise WrongParameter(f"reranking '{text}': {_problem(error)}", data={"parameter": "reranking"}) from None
