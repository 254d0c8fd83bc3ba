"""Query understanding for ``POST /v1/chat``: a shopper's message → :class:`Constraints`, with no external service.

:func:`understand` is a pure function of the message, the catalog's :class:`CatalogVocabulary`, the previous turn's
constraints, the session's events and the prices shown last turn. Text is normalised first (NFKC, lower case,
``father's`` → ``fathers``, other apostrophes dropped) and split into words by
:func:`reco.models.text_index.tokenize`; words are
compared through a light plural fold (:func:`reco.chat.lexicon.stem`: ``books`` ↔ ``book``, ``batteries`` ↔
``battery``), the same for message words and catalog values. The rules, in the order they run:

0. **Start over** ("start over", "new search", "forget that", "never mind", "reset") drops ``previous``.
1. **Prices**. ``under/below/less than/max/up to/at most/budget is`` N → ``max_price``; ``over/above/more than/at
   least/from/starting at`` N → ``min_price``; ``not over`` → max, ``not under`` → min; ``between A and B``, ``A-B``,
   ``A to B``, ``from A to B`` → both; ``around/about/roughly/~`` N, ``N-ish``, ``N or so`` and a bare amount with a
   currency ("a $50 gift") → N ± 20 %; postfix ``N max/tops/or less`` and ``N+/or more/and up``. Amounts take
   ``$ € £``, ``usd/eur/gbp``, ``dollars/euros/bucks/pounds``, ``1,299.99`` and ``1k``/``1.5k``. A number followed by
   a unit (``5 years``, ``4 stars``, ``20%``, ``2 kg``) or preceded by an age word without a currency ("kids under 5",
   "ages 3-5") is not a price; weak cues (from/about/near/within) need a currency for a year-like number (1900-2099).
   Several bounds on one side: the last one wins. Words: cheap/inexpensive/affordable/budget/bargain → ``budget``
   (``budget`` alone counts only when no amount was given), expensive/premium/luxury/high end/fancy → ``premium``,
   "not too expensive" → ``budget``.
2. **Event references** (only events with an ``item_id``). "the desk I looked at", "that lamp I clicked on", "like the
   desk", "similar to the one I viewed", "cheaper than this one", "that one", "the last one", "it": a referenced noun
   anchors the event whose ``title``/``description`` shares the most content words with it (ties: a title ending
   with the noun first, one using it as a modifier, "Desk Lamp" for "desk", last; then the newest); "one", "it",
   "that one", "the last one" anchor the newest event. The phrase is then consumed; when no event matches, the
   noun stays in the message (so "like the desk I looked at" still asks for desks). A negated reference ("not that
   one") sets ``something_else`` instead.
3. **Words**, clause by clause (split on punctuation and "but"), longest phrase first at each position:
   negation cues → lexicon (recipients, occasions, gift, price words, "something else") → catalog values → basic
   colour words and category head nouns → stop words → content words.

   - **Catalog values**: a word or phrase equal to a value of a vocabulary property (case-insensitive, plural-tolerant,
     multi-word values too) goes to ``include[property]`` (every value of that property with the same folded form). A
     value found in several properties goes to the category property (``category``, ``categories``, ...), else to the
     first in the vocabulary's order. Single-word values that are stop words never match; values of three letters or
     fewer match only exactly. A basic colour word ("blue") also matches every multi-word value containing it ("navy
     blue", "sky blue"; the colour property preferred), and a category's last word its multi-word value ("shoes" →
     "running shoes"), when no exact value matched. Two categories side by side ("desk lamp") keep the last, the
     first word returning to ``text``.
   - **Negation**: after not/no/without/nothing/except/anything but/other than/instead of, the next value, lexicon
     concept or content word (skipping up to three stop words: "not for my kids", "no more books") is negated;
     "or"/"nor" carry the negation on, "and" only to an item right after it. Negated values go to ``exclude``, a
     negated recipient or occasion to ``exclude`` of its mapped value (below), other negated words to
     ``exclude_words`` ("without plastic").
   - **Recipients** (dad, mom, kid, baby, teen, partner, grandparent, friend, colleague, sibling, teacher) and
     **occasions** (birthday, christmas, fathers day, mothers day, anniversary, wedding, graduation, valentines day,
     housewarming, baby shower, back to school, ...): the first one named is kept, and each also adds its vocabulary
     value when the catalog has one, audience-like properties (``audience``, ``gender``, ``age_group``, ...) searched
     first: kid → "kids"/"children", baby → "baby", teen → "teens", dad → "for dad", mom → "for mom", an occasion →
     its own name ("fathers day"). **gift**/present sets ``gift`` and adds the vocabulary's "gift" value only when no
     other value of that property was included by the message (include is any-of: it would widen the match).
   - "cheaper"/"less expensive"/"too expensive" and "more expensive"/"pricier"/"fancier" are relative (rule 4);
     "something else"/"other"/"different"/"another"/"more options"/"show me more" set ``something_else``.
4. **Refinement** (``previous`` given): fields carry over unless replaced. A new max (min) replaces the old one and
   clears ``budget`` and ``cheaper_than`` (``premium``); an old bound crossing a new one is dropped. "cheaper" →
   ``cheaper_than = min(shown_prices)``, else 80 % of the previous ``max_price`` or ``cheaper_than`` (the lower),
   else ``budget``; it drops the lower bounds. "more expensive" → ``min_price = max(shown_prices)``, else
   ``previous.max_price``, else ``premium``; it drops the upper bounds. ``include``: a property named again is
   replaced ("lamps" after "desks"), others are kept; ``exclude`` and ``exclude_words`` accumulate; including a value
   lifts its exclusion and vice versa. A new recipient or occasion replaces the old and removes the old one's
   vocabulary value. ``anchor_item_id``, ``gift``, ``budget``, ``premium`` carry; ``something_else`` and ``vague``
   never do. "start over" alone is ``vague`` (nothing left to search for).
   ``text``: the message's own content words when it starts a new subject (it names a category, or has three or more
   content words of its own); otherwise (a refinement) the previous text followed by the new words.
5. **vague** when the message yielded nothing (no price, value, concept, reference or flag) and no content word:
   "hi", "help me", "something nice?". The constraints (previous ones included) are still returned.

Stop words (:data:`reco.chat.lexicon.STOP_WORDS`) cover English function words, shopping filler ("looking",
"want", "show", "recommend", "item", "ideas", "nice") and bare numbers; they never reach ``text``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from re import Match
from typing import TYPE_CHECKING, Any

from reco.chat import lexicon as lx
from reco.models.columns import column_key
from reco.models.text_index import tokenize

if TYPE_CHECKING:
    from reco.models.columns import ItemColumns

MAX_MESSAGE_CHARS = 4000  # the rest of a longer message is ignored
CHEAPER = 0.8  # "cheaper" without shown prices: 80 % of the previous cap
NEW_SUBJECT_WORDS = 3  # a message with this many content words of its own starts a new text
_NEGATION_REACH = 3  # stop words a negation skips ("not for my kids")
_REFERENCE_FILLER = lx.GENERIC_NOUNS | {"last", "latest", "previous", "same", "recent", "exact", "first"}
_EPOCH = datetime.min.replace(tzinfo=UTC)

Values = lx.Values


# ---------------------------------------------------------------------------------------------------------------
# The public types


@dataclass(frozen=True)
class CatalogVocabulary:
    """What the catalog's properties can take, for matching words in a message."""

    values: Mapping[str, Sequence[str]]  # string / array properties → their distinct values
    numeric: Sequence[str] = ()  # number properties (price, rating, ...)

    @classmethod
    def from_columns(
        cls, columns: ItemColumns, properties: Sequence[str] | None = None, max_values: int = 5000
    ) -> CatalogVocabulary:
        """The string / array columns' vocabularies (and the number columns' names) of a trained artifact.

        Without ``properties``, free-text properties are left out: known names (title, description, id, url, ...) and
        properties whose values average more than four words. A property with more than ``max_values`` distinct
        values is left out too (ids, titles: not attributes); values without a letter (dates, codes) are dropped.
        """
        names = list(properties) if properties is not None else columns.names()
        values: dict[str, tuple[str, ...]] = {}
        numeric: list[str] = []
        for name in names:
            try:
                kind = columns.kind(name)
            except KeyError:
                continue
            if kind == "number":
                numeric.append(name)
            if kind not in ("string", "strings") or (properties is None and name.lower() in lx.FREE_TEXT_PROPERTIES):
                continue
            vocab = columns.columns[f"{column_key(name)}/vocab"]
            if len(vocab) > max_values:
                continue
            kept = tuple(str(v) for v in vocab.tolist() if any(c.isalpha() for c in str(v)))
            if not kept or (properties is None and sum(len(tokenize(v)) for v in kept) > 4 * len(kept)):
                continue
            values[name] = kept
        return cls(values=values, numeric=tuple(numeric))

    @cached_property
    def _index(self) -> lx.VocabularyIndex:
        return lx.VocabularyIndex(self.values)


@dataclass(frozen=True)
class Constraints:
    """What one turn of the conversation asks for (see the module docstring for how each field is set)."""

    text: str = ""  # words left for full-text relevance
    min_price: float | None = None
    max_price: float | None = None
    include: Mapping[str, Values] = field(default_factory=dict)  # property → values the items must have (any of)
    exclude: Mapping[str, Values] = field(default_factory=dict)  # property → values they must not have
    exclude_words: Values = ()  # negated words that are no catalog value ("without plastic")
    recipient: str | None = None
    occasion: str | None = None
    gift: bool = False
    budget: bool = False  # "cheap": a relative cap the caller sets (e.g. the category's lower prices)
    premium: bool = False  # "luxury": a relative floor
    anchor_item_id: str | None = None
    cheaper_than: float | None = None
    something_else: bool = False
    vague: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "include", _frozen_values(self.include))
        object.__setattr__(self, "exclude", _frozen_values(self.exclude))
        object.__setattr__(self, "exclude_words", tuple(self.exclude_words))

    def as_dict(self) -> dict[str, Any]:
        """JSON-able (lists for tuples), for storage; :meth:`from_dict` reads it back."""
        return {
            "text": self.text,
            "min_price": self.min_price,
            "max_price": self.max_price,
            "include": {k: list(v) for k, v in self.include.items()},
            "exclude": {k: list(v) for k, v in self.exclude.items()},
            "exclude_words": list(self.exclude_words),
            "recipient": self.recipient,
            "occasion": self.occasion,
            "gift": self.gift,
            "budget": self.budget,
            "premium": self.premium,
            "anchor_item_id": self.anchor_item_id,
            "cheaper_than": self.cheaper_than,
            "something_else": self.something_else,
            "vague": self.vague,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Constraints:
        """Reads :meth:`as_dict` output; unknown keys are ignored, missing or ill-typed ones take their defaults."""
        words = data.get("exclude_words")
        return cls(
            text=data["text"] if isinstance(data.get("text"), str) else "",
            min_price=_number_or_none(data.get("min_price")),
            max_price=_number_or_none(data.get("max_price")),
            include=_values_mapping(data.get("include")),
            exclude=_values_mapping(data.get("exclude")),
            exclude_words=tuple(w for w in words if isinstance(w, str)) if isinstance(words, list | tuple) else (),
            recipient=_str_or_none(data.get("recipient")),
            occasion=_str_or_none(data.get("occasion")),
            gift=data.get("gift") is True,
            budget=data.get("budget") is True,
            premium=data.get("premium") is True,
            anchor_item_id=_str_or_none(data.get("anchor_item_id")),
            cheaper_than=_number_or_none(data.get("cheaper_than")),
            something_else=data.get("something_else") is True,
            vague=data.get("vague") is True,
        )


@dataclass(frozen=True)
class ChatEvent:
    timestamp: datetime
    type: str
    item_id: str | None = None
    description: str | None = None
    title: str | None = None  # the item's title, filled by the caller from the catalog when known


def _frozen_values(mapping: Mapping[str, Any]) -> dict[str, Values]:
    out: dict[str, Values] = {}
    for key, values in mapping.items():
        kept = (values,) if isinstance(values, str) else tuple(v for v in values if isinstance(v, str))
        if kept:
            out[str(key)] = tuple(dict.fromkeys(kept))
    return out


def _values_mapping(value: Any) -> dict[str, Values]:
    if not isinstance(value, Mapping):
        return {}
    return _frozen_values({k: v for k, v in value.items() if isinstance(v, str | list | tuple)})


def _number_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# ---------------------------------------------------------------------------------------------------------------
# One message's findings


@dataclass
class _Turn:
    min_price: float | None = None
    max_price: float | None = None
    include: dict[str, list[str]] = field(default_factory=dict)
    exclude: dict[str, list[str]] = field(default_factory=dict)
    exclude_words: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    recipient: str | None = None
    occasion: str | None = None
    gift: bool = False
    budget: bool = False
    premium: bool = False
    cheaper: bool = False
    pricier: bool = False
    something_else: bool = False
    anchor_item_id: str | None = None
    reset: bool = False

    def understood(self) -> bool:
        return bool(
            self.min_price is not None
            or self.max_price is not None
            or self.include
            or self.exclude
            or self.exclude_words
            or self.recipient
            or self.occasion
            or self.gift
            or self.budget
            or self.premium
            or self.cheaper
            or self.pricier
            or self.something_else
            or self.anchor_item_id
        )


def _add(target: dict[str, list[str]], name: str, values: Iterable[str]) -> None:
    existing = target.setdefault(name, [])
    existing.extend(v for v in values if v not in existing)


def _finite(values: Iterable[Any]) -> list[float]:
    out = []
    for value in values:
        number = _number_or_none(value)
        if number is not None and number >= 0:
            out.append(number)
    return out


# ---------------------------------------------------------------------------------------------------------------
# The entry point


def understand(
    message: str,
    vocabulary: CatalogVocabulary,
    *,
    previous: Constraints | None = None,
    events: Sequence[ChatEvent] = (),
    shown_prices: Sequence[float] = (),
) -> Constraints:
    """The constraints a shopper's ``message`` expresses, refined from ``previous`` (see the module docstring)."""
    text = lx.normalize(message if isinstance(message, str) else "")[:MAX_MESSAGE_CHARS]
    turn = _Turn()
    text, resets = lx.RESET.subn(" ; ", text)
    if resets:
        turn.reset, previous = True, None
    text, turn.min_price, turn.max_price = lx.find_prices(text)
    text = _references(text, events, turn)
    index = vocabulary._index
    for clause in _clauses(text):
        _read_clause(clause, index, turn)
    if turn.gift:
        found = index.lookup(lx.GIFT_VALUES)
        if found and found[0] not in turn.include:
            _add(turn.include, *found)
    return _merge(previous, turn, index, _finite(shown_prices))


# ---------------------------------------------------------------------------------------------------------------
# Rule 2: references to the session's events


def _moment(event: ChatEvent) -> datetime:
    stamp = event.timestamp
    if not isinstance(stamp, datetime):
        return _EPOCH
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


class _Events:
    """The events with an item, newest first: (item id, content words of title and description, title's last word)."""

    def __init__(self, events: Sequence[ChatEvent]) -> None:
        self.events = events

    @cached_property
    def items(self) -> list[tuple[str, set[str], list[str]]]:
        ordered = sorted(
            ((_moment(e), n, e) for n, e in enumerate(self.events) if isinstance(e, ChatEvent) and e.item_id),
            key=lambda t: (t[0], t[1]),
            reverse=True,
        )
        out = []
        for _, _, event in ordered:
            title = [lx.stem(t) for t in tokenize(lx.normalize(event.title or "")) if t not in lx.STOP_WORDS]
            out.append((str(event.item_id), _content_stems(f"{event.title or ''} {event.description or ''}"), title))
        return out

    def resolve(self, noun: Sequence[str]) -> str | None:
        """The event sharing the most content words with ``noun``; the newest one for "one", "it", "that one".

        Titles settle ties before recency: one ending with the noun's last word ("desk" → "... Workshop Desk") comes
        first, one using it as a modifier ("... Desk Lamp") last.
        """
        wanted = [lx.stem(w) for w in noun if w not in lx.STOP_WORDS and lx.stem(w) not in _REFERENCE_FILLER]
        if not wanted:
            return self.items[0][0] if self.items else None
        best, best_score = None, (0, 0)
        for item_id, words, title in self.items:
            overlap = len(set(wanted) & words)
            fit = 2 if title and title[-1] == wanted[-1] else 0 if wanted[-1] in title else 1
            if overlap and (fit, overlap) > best_score:
                best, best_score = item_id, (fit, overlap)
        return best


def _content_stems(text: str) -> set[str]:
    return {lx.stem(t) for t in tokenize(lx.normalize(text)) if t not in lx.STOP_WORDS and not t.isdigit()}


def _references(text: str, events: Sequence[ChatEvent], turn: _Turn) -> str:
    known = _Events(events)

    def negated(match: Match[str]) -> bool:
        if lx.NEGATED_BEFORE.search(match.string[max(0, match.start() - 20) : match.start()]):
            turn.something_else = True
            return True
        return False

    def anchor(noun: Sequence[str]) -> bool:
        item_id = known.resolve(noun)
        if item_id and not turn.anchor_item_id:
            turn.anchor_item_id = item_id
        return item_id is not None

    def on_verb(match: Match[str]) -> str:
        noun = tokenize(match.group("noun"))
        if negated(match) or anchor(noun):
            return " ; "
        return " ; " + " ".join(w for w in noun if w not in _REFERENCE_FILLER) + " ; "

    def on_cue(match: Match[str]) -> str:
        words = tokenize(match.group("noun") or "")
        noun: list[str] = []
        for word in words:
            if word in lx.STOP_WORDS and word not in lx.GENERIC_NOUNS:
                break
            noun.append(word)
        rest = " ".join(words[len(noun) :])
        if negated(match):
            return f" ; {rest} "
        if anchor(noun) or not _content_stems(" ".join(noun)) - _REFERENCE_FILLER:
            return f" ; {rest} "
        return match.group(0)

    def on_generic(match: Match[str]) -> str:
        if not negated(match):
            anchor(())
        return " ; "

    text = lx.REFERENCE_VERB.sub(on_verb, text)
    text = lx.REFERENCE_CUE.sub(on_cue, text)
    return lx.REFERENCE_GENERIC.sub(on_generic, text)


# ---------------------------------------------------------------------------------------------------------------
# Rule 3: words


@dataclass
class _Unit:
    kind: str  # cue, stop, conj, word, value, concept
    start: int
    end: int
    name: str | None = None  # value: the property
    values: Values = ()
    concepts: list[lx.Payload] = field(default_factory=list)  # concept: one; value: those inside it ("for dad")


def _clauses(text: str) -> list[list[str]]:
    """Words per clause: punctuation and "but" end a clause ("anything but" is a negation cue)."""
    clauses: list[list[str]] = []
    for part in lx.CLAUSE_SPLIT.split(text):
        current: list[str] = []
        for word in tokenize(part):
            if word == "but" and not (current and current[-1] in lx.BREAK_AFTER):
                if current:
                    clauses.append(current)
                current = []
                continue
            current.append(word)
        if current:
            clauses.append(current)
    return clauses


def _phrase(table: lx.PhraseTable, stems: Sequence[str], i: int) -> tuple[int, lx.Payload] | None:
    for key, payload in table.get(stems[i], ()):
        if tuple(stems[i : i + len(key)]) == key:
            return len(key), payload
    return None


def _segment(tokens: list[str], index: lx.VocabularyIndex) -> list[_Unit]:
    stems = [lx.stem(t) for t in tokens]
    units: list[_Unit] = []
    i, n = 0, len(tokens)
    while i < n:
        token, stemmed = tokens[i], stems[i]
        cue = _phrase(lx.CUES, stems, i)
        concept = _phrase(lx.LEXICON, stems, i)
        value = index.match(stems, i)
        if cue:
            units.append(_Unit(cue[1][0], i, i + cue[0]))
        elif value and (not concept or value[0] > concept[0]):
            length, name, values = value
            inside = [_phrase(lx.LEXICON, stems, j) for j in range(i, i + length)]
            concepts = [c[1] for j, c in enumerate(inside) if c and j + c[0] <= length and c[1][0] != "else"]
            units.append(_Unit("value", i, i + length, name, values, concepts))
        elif concept:
            units.append(_Unit("concept", i, i + concept[0], concepts=[concept[1]]))
        elif stemmed == "more":
            ends = i + 1 == n or tokens[i + 1] in lx.MORE_ENDINGS
            units.append(
                _Unit("concept", i, i + 1, concepts=[("else", None, None)]) if ends else _Unit("stop", i, i + 1)
            )
        elif stemmed in index.partial:
            name, values = index.partial[stemmed]
            units.append(_Unit("value", i, i + 1, name, values))
        elif token in lx.CONJUNCTIONS:
            units.append(_Unit("conj", i, i + 1))
        elif token in lx.STOP_WORDS or stemmed in lx.STOP_WORDS or token.isdigit():
            units.append(_Unit("stop", i, i + 1))
        else:
            units.append(_Unit("word", i, i + 1))
        i = units[-1].end
    # "desk lamp": two categories side by side, the first one describes the second
    for k in range(len(units) - 1):
        first, second = units[k], units[k + 1]
        same = first.kind == second.kind == "value" and first.name == second.name == index.category
        if same and first.end == second.start:
            first.kind = "word"
    return units


def _read_clause(tokens: list[str], index: lx.VocabularyIndex, turn: _Turn) -> None:
    negation = 0  # 0: none, 1: looking for what is negated, 2: just negated (or carries on), 3: "and" carries on
    skipped = 0
    prices_given = turn.min_price is not None or turn.max_price is not None
    for unit in _segment(tokens, index):
        if unit.kind == "cue":
            negation, skipped = 1, 0
            continue
        if unit.kind == "conj":
            if negation == 2:
                negation, skipped = (3 if tokens[unit.start] == "and" else 1), 0
            continue
        if unit.kind == "stop":
            skipped += 1
            if negation != 1 or skipped > _NEGATION_REACH:
                negation = 0
            continue
        negated = negation in (1, 3)
        negation = 2 if negated else 0
        if unit.kind == "word":
            words = tokens[unit.start : unit.end]
            target = turn.exclude_words if negated else turn.words
            target.extend(w for w in words if w not in target)
            continue
        if unit.kind == "value" and unit.name is not None:
            _add(turn.exclude if negated else turn.include, unit.name, unit.values)
        for concept in unit.concepts:
            _apply_concept(concept, negated, index, turn, prices_given)


def _apply_concept(
    concept: lx.Payload, negated: bool, index: lx.VocabularyIndex, turn: _Turn, prices_given: bool
) -> None:
    kind, name, negated_kind = concept
    if kind in ("recipient", "occasion"):
        found = index.concept(kind, name)
        if found:
            _add(turn.exclude if negated else turn.include, *found)
        if not negated and kind == "recipient":
            turn.recipient = turn.recipient or name
        elif not negated:
            turn.occasion = turn.occasion or name
        return
    if negated:
        kind = negated_kind or ""
    if kind == "gift":
        turn.gift = True
    elif kind == "budget" or (kind == "budget_word" and not prices_given):
        turn.budget = True
    elif kind == "premium":
        turn.premium = True
    elif kind == "cheaper":
        turn.cheaper = True
    elif kind == "pricier":
        turn.pricier = True
    elif kind == "else":
        turn.something_else = True


# ---------------------------------------------------------------------------------------------------------------
# Rule 4: refinement across turns


def _merge(previous: Constraints | None, turn: _Turn, index: lx.VocabularyIndex, shown: list[float]) -> Constraints:
    base = previous or Constraints()
    min_price, max_price = base.min_price, base.max_price
    budget, premium, cheaper_than = base.budget, base.premium, base.cheaper_than
    if turn.min_price is not None:
        min_price, premium = turn.min_price, False
    if turn.max_price is not None:
        max_price, budget, cheaper_than = turn.max_price, False, None
    if min_price is not None and max_price is not None and min_price > max_price:
        if turn.min_price is None:
            min_price = None
        else:
            max_price = None
    if turn.budget:
        budget, premium = True, turn.premium
    elif turn.premium:
        budget, premium = False, True
    if turn.cheaper:
        if shown:
            cheaper_than = min(shown)
        elif base.max_price is not None or base.cheaper_than is not None:
            cheaper_than = round(min(p for p in (base.max_price, base.cheaper_than) if p is not None) * CHEAPER, 2)
        else:
            budget = True
        premium = False
        min_price = turn.min_price
    if turn.pricier:
        if turn.min_price is None and (shown or base.max_price is not None):
            min_price = max(shown) if shown else base.max_price
        elif turn.min_price is None:
            premium = True
        budget, cheaper_than, max_price = False, None, turn.max_price

    include = {k: list(v) for k, v in base.include.items()}
    for kind, old, new in (("recipient", base.recipient, turn.recipient), ("occasion", base.occasion, turn.occasion)):
        stale = index.concept(kind, old) if new and old and new != old else None
        if stale and stale[0] in include and stale[0] not in turn.include:
            include[stale[0]] = [v for v in include[stale[0]] if v not in stale[1]]
    include.update((k, list(v)) for k, v in turn.include.items())
    exclude = {k: list(v) for k, v in base.exclude.items()}
    for name, values in turn.exclude.items():
        _add(exclude, name, values)
        if name in include:
            include[name] = [v for v in include[name] if v not in values]
    for name, values in turn.include.items():
        if name in exclude:
            exclude[name] = [v for v in exclude[name] if v not in values]

    new_subject = (index.category is not None and index.category in turn.include) or len(
        turn.words
    ) >= NEW_SUBJECT_WORDS
    words = turn.words if new_subject else [*base.text.split(), *turn.words]
    return Constraints(
        text=" ".join(dict.fromkeys(words)),
        min_price=min_price,
        max_price=max_price,
        include={k: tuple(v) for k, v in include.items() if v},
        exclude={k: tuple(v) for k, v in exclude.items() if v},
        exclude_words=tuple(dict.fromkeys([*base.exclude_words, *turn.exclude_words])),
        recipient=turn.recipient or base.recipient,
        occasion=turn.occasion or base.occasion,
        gift=turn.gift or base.gift,
        budget=budget,
        premium=premium,
        anchor_item_id=turn.anchor_item_id or base.anchor_item_id,
        cheaper_than=cheaper_than,
        something_else=turn.something_else,
        vague=not turn.understood() and not turn.words,
    )
