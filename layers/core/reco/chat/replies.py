"""The built-in responder: a short reply grounded in what was found, or one clarifying question.

It only ever names the first item of the response (by its title) and states facts taken from the
catalog (its price, the first clause of its description): it cannot talk about an item the
shopper is not shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from reco.chat.llm import GroundingItem
from reco.chat.understanding import Constraints

MAX_DETAIL_CHARS = 90
_CLAUSE = re.compile(r"^(.+?)(?:[.;!?]|, (?:and|in|for|with) |$)")


def money(value: float) -> str:
    return f"${value:,.0f}" if float(value).is_integer() else f"${value:,.2f}"


def _price_phrase(constraints: Constraints) -> str:
    low, high = constraints.min_price, constraints.max_price
    if constraints.cheaper_than is not None:
        high = constraints.cheaper_than if high is None else min(high, constraints.cheaper_than)
    if low is not None and high is not None:
        return f" between {money(low)} and {money(high)}"
    if high is not None:
        return f" under {money(high)}"
    if low is not None:
        return f" over {money(low)}"
    if constraints.budget:
        return " at the lower end of the price range"
    if constraints.premium:
        return " at the premium end"
    return ""


def _what(constraints: Constraints, count: int, category: str) -> str:
    """What was asked for, as a noun phrase: the wished categories, else the words, else "gift ideas"."""
    wanted = list(constraints.include.get(category, ()))
    colours = [v for name, values in constraints.include.items() if name in ("color", "colour") for v in values]
    words = " or ".join(wanted) if wanted else constraints.text.strip()
    if not words:
        words = "gift ideas" if constraints.gift or constraints.occasion or constraints.recipient else "ideas"
    if colours:
        words = f"{' or '.join(colours)} {words}"
    words = words if len(words) <= 60 else words[:57] + "…"
    return f"{count} {words}" if count > 1 else f"one match for {words}"


def _for_whom(constraints: Constraints) -> str:
    """`` for your dad's birthday``, `` for your dad``, `` for Christmas``."""
    recipient, occasion = constraints.recipient, constraints.occasion
    if recipient and occasion:
        return f" for your {recipient}'s {occasion}"
    if recipient:
        return f" for your {recipient}"
    return f" for {occasion}" if occasion else ""


def _detail(item: GroundingItem) -> str:
    """`` is solid wood and fits heavy tools``-like: the first clause of the description, lower-cased start;
    nothing without a description (the price, when known, is said already)."""
    if not item.description:
        return "" if item.price else " is a good fit"
    match = _CLAUSE.match(item.description.strip())
    clause = (match.group(1) if match else item.description).strip()
    clause = clause if len(clause) <= MAX_DETAIL_CHARS else clause[: MAX_DETAIL_CHARS - 1].rstrip() + "…"
    clause = re.sub(r"^(A|An|The)\s+", lambda m: m.group(1).lower() + " ", clause)
    return f" is {clause}"


def grounded_reply(constraints: Constraints, items: Sequence[GroundingItem], category: str = "category") -> str:
    """The reply for a turn that found ``items`` (at least one)."""
    first = items[0]
    price = f" at {money(float(first.price))}" if first.price else ""
    lead = f"Here {'are' if len(items) > 1 else 'is'} {_what(constraints, len(items), category)}"
    return f"{lead}{_price_phrase(constraints)}{_for_whom(constraints)} — the {first.title}{price}{_detail(first)}."


def clarifying_question(
    constraints: Constraints,
    vocabulary: Mapping[str, Sequence[str]],
    category: str,
    blocker: str | None = None,
    matched_text: bool = False,
) -> str:
    """One question, when nothing matched or the message said too little; ``blocker`` names the wish
    whose removal would let items through (``price``, ``include:<property>``, ``exclude``, ``shown``)."""
    examples = ", ".join(list(vocabulary.get(category, ()))[:3])
    hint = f" — for example {examples}" if examples else ""
    if constraints.vague:
        # One question, the last sentence: a shopper answers what ends the reply.
        return f"Happy to help! What are you looking for{hint}{' —' if hint else ''} and is there a budget?"
    if blocker == "price":
        return (
            f"Nothing{_price_phrase(constraints)} fits everything you asked for. Should I look in a wider price range?"
        )
    if blocker is not None and blocker.startswith("include:"):
        name = blocker.removeprefix("include:")
        wished = ", ".join(constraints.include.get(name, ()))
        return f"I found nothing that is {wished} and fits the rest. Would another {name} do?"
    if blocker == "exclude":
        return "Everything that fits is something you asked me to leave out. Should I include it after all?"
    if blocker == "shown":
        return "Those were all the matches I have. Would you like to see them again, or try something different?"
    what = constraints.text.strip() or "that"
    if matched_text:
        return f"I have {what[:60]} items, but none that fit all your other wishes too. Which of them matters most?"
    return f"I couldn't find anything for “{what[:60]}”. What kind of item is it{hint}?"
