"""Word lists, patterns and matchers for :mod:`reco.chat.understanding`: English only, compiled once at import.

Everything here works on *normalised* text (:func:`normalize`: NFKC, lower case, ``father's`` → ``fathers``,
other apostrophes dropped) and on *stems* (:func:`stem`: a light plural fold, ``books`` → ``book``,
``batteries`` / ``battery`` → ``batteri``), so a phrase written here matches its plural and possessive forms.
:func:`find_prices` reads the amounts of a message (rule 1 of :mod:`reco.chat.understanding`);
:class:`VocabularyIndex` finds a catalog's values in it by their first word, never scanning all values.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from re import Match

from reco.models.text_index import tokenize

Stems = tuple[str, ...]
Values = tuple[str, ...]
AROUND = 0.2  # "around 100" → 80-120

_QUOTES = "'`\u2019\u02bc\u00b4"  # straight, grave, right single quotation mark, modifier apostrophe, acute
_APOSTROPHE_S = re.compile(rf"(\w)[{_QUOTES}]s(?!\w)")
_APOSTROPHE = re.compile(rf"[{_QUOTES}]")
_CANONICAL = {"gray": "grey", "colour": "color", "colours": "colors", "mum": "mom", "mums": "moms", "xmas": "christmas"}


def normalize(text: str) -> str:
    """NFKC, lower case, possessive ``'s`` glued to its word, other apostrophes dropped (``don't`` → ``dont``)."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _APOSTROPHE.sub("", _APOSTROPHE_S.sub(r"\1s", text))


def stem(token: str) -> str:
    """A plural fold applied alike to message words and vocabulary values (not a linguistic stemmer).

    Words of three letters or fewer, and words with digits, are kept as they are, so short values match only exactly.
    """
    token = _CANONICAL.get(token, token)
    if len(token) <= 3 or not token.isalpha():
        return token
    if token.endswith("ies") and len(token) > 4:
        return token[:-3] + "i"
    if token.endswith(("sses", "xes", "ches", "shes")):
        return token[:-2]
    if token.endswith("s") and not token.endswith(("ss", "us", "is")):
        token = token[:-1]
    if len(token) > 3 and token.endswith("ie"):
        return token[:-1]
    if len(token) > 3 and token.endswith("y") and token[-2] not in "aeiou":
        return token[:-1] + "i"
    return token


def _words(text: str) -> list[str]:
    return text.split()


def stems_of(text: str) -> Stems:
    return tuple(stem(t) for t in tokenize(normalize(text)))


# fmt: off
STOP_WORDS = frozenset(_words("""
a about above after again all also am an and any anybody anyone anything anyway anywhere are around as at be
because been before being best better both but buy buying by can cant could did do does doing done dont each else
either enough even ever every everything few find for from get gets getting give giving go going good got great had
has have having he hello help her here hers hey hi him his how however i id if im in into is it its ive just kind
kinds know let lets like liked looking look looks lot lots love lovely made make many may me maybe might mine more
most much must my myself need needs needed nice no nor not now of off oh ok okay on one ones only or other our out
over perhaps please pls plz pick prefer preferably probably purchase quite rather really recommend recommendation
recommendations recommended right same search searching see seems shall she shop shopping should show showing so
some someone something sort sorts still stuff such suggest suggestion suggestions sure than thank thanks that the
their them then there these they thing things think this those though thx to too try u up us very want wanted wants
was way we well were what whatever when where which while who whom whose why will wish with within without would
yeah yes yet you your yours idea ideas option options item items product products choice choices cool awesome
perfect special interesting fun cute great amazing thoughts hmm hm um uh wonder wondering ask asking tell type
under below beneath above least most max maximum min minimum between approximately roughly less price prices priced
cost costs spend spending money dollar dollars euro euros buck bucks star stars rated rating aged age ages old similar
instead goes went match matches matching pair pairs fit fits actually fine alright also
"""))
# fmt: on

CONJUNCTIONS = frozenset({"or", "nor", "and"})
BREAK_AFTER = frozenset({"anything", "everything", "all", "nothing"})  # "anything but toys": "but" negates
GENERIC_NOUNS = frozenset({"one", "item", "product", "thing", "stuff", "option", "result", "pick"})

# Negation cues (as stems), and look-alike phrases that are not cues.
NEGATION_CUES: tuple[str, ...] = (
    "not", "no", "without", "nothing", "except", "excluding", "exclude", "avoid", "never", "none", "dont", "doesnt",
    "anything but", "everything but", "all but", "other than", "rather than", "instead of", "apart from",
    "but not", "minus", "dont want", "do not want", "dont need", "dont like", "not interested in",
)  # fmt: skip
NOT_CUES: tuple[str, ...] = ("not sure", "no idea", "not certain", "no problem", "no worries", "not really")

RECIPIENTS: Mapping[str, tuple[str, ...]] = {
    "dad": ("dad", "father", "daddy", "papa", "stepdad", "stepfather", "my old man"),
    "mom": ("mom", "mother", "mommy", "momma", "mama", "stepmom", "stepmother"),
    "kid": ("kid", "child", "children", "son", "daughter", "toddler", "boy", "girl", "nephew", "niece", "grandson",
            "granddaughter", "grandkid", "grandchild", "grandchildren", "little one"),
    "baby": ("baby", "newborn", "infant"),
    "teen": ("teen", "teenager", "teenage", "adolescent"),
    "partner": ("partner", "wife", "husband", "girlfriend", "boyfriend", "spouse", "fiance", "fiancee",
                "significant other"),
    "grandparent": ("grandma", "grandpa", "grandmother", "grandfather", "granny", "grandparent", "nana", "grandad",
                    "granddad"),
    "friend": ("friend", "best friend", "bff", "buddy", "pal", "roommate", "flatmate"),
    "colleague": ("colleague", "coworker", "co worker", "boss", "manager"),
    "sibling": ("brother", "sister", "sibling"),
    "teacher": ("teacher",),
}  # fmt: skip
# Vocabulary values a recipient stands for, first found wins (audience-like properties searched first).
RECIPIENT_VALUES: Mapping[str, tuple[str, ...]] = {
    "dad": ("for dad", "dad", "for father", "father", "fathers"),
    "mom": ("for mom", "mom", "for mother", "mother", "mothers"),
    "kid": ("kids", "children", "for kids", "for children", "child"),
    "baby": ("baby", "for baby", "babies", "infant", "newborn"),
    "teen": ("teens", "teenagers", "for teens", "teen"),
    "partner": ("for partner", "partner", "couples"),
    "grandparent": ("grandparents", "for grandparents", "for grandma", "for grandpa"),
    "friend": ("for friends", "for a friend"),
    "colleague": ("for colleagues", "for coworkers", "office gift"),
    "sibling": ("for siblings",),
    "teacher": ("for teachers", "teacher gift"),
}
OCCASIONS: Mapping[str, tuple[str, ...]] = {
    "birthday": ("birthday", "bday", "birth day"),
    "christmas": ("christmas", "xmas", "secret santa", "stocking stuffer", "stocking filler"),
    "fathers day": ("fathers day", "father day", "dads day"),
    "mothers day": ("mothers day", "mother day", "moms day"),
    "anniversary": ("anniversary",),
    "wedding": ("wedding", "bridal shower", "wedding gift"),
    "graduation": ("graduation", "grad", "graduating"),
    "valentines day": ("valentine", "valentines day", "valentine day"),
    "housewarming": ("housewarming", "house warming", "new home", "new house", "new apartment"),
    "baby shower": ("baby shower",),
    "back to school": ("back to school", "new school year"),
    "easter": ("easter",),
    "halloween": ("halloween",),
    "thanksgiving": ("thanksgiving",),
    "new year": ("new year", "new years", "new years eve"),
    "retirement": ("retirement", "retiring"),
    "hanukkah": ("hanukkah", "chanukah"),
    "engagement": ("engagement",),
}
GIFT_WORDS: tuple[str, ...] = ("gift", "present", "gift idea", "something to give", "gifting")
GIFT_VALUES: tuple[str, ...] = ("gift", "gifts", "gift idea", "gift ideas")

# Price words: (phrase, kind, kind when negated). "budget" alone is a flag only when no amount was given.
PRICE_WORDS: tuple[tuple[str, str, str | None], ...] = (
    ("cheap", "budget", None), ("inexpensive", "budget", None), ("affordable", "budget", None),
    ("budget", "budget_word", None), ("low cost", "budget", None), ("low price", "budget", None),
    ("low priced", "budget", None), ("bargain", "budget", None), ("economical", "budget", None),
    ("cheapest", "budget", None), ("budget friendly", "budget", None), ("reasonably priced", "budget", None),
    ("expensive", "premium", "budget"), ("premium", "premium", None), ("luxury", "premium", None),
    ("luxurious", "premium", None), ("high end", "premium", None), ("upscale", "premium", None),
    ("pricey", "premium", "budget"), ("fancy", "premium", None), ("top of the line", "premium", None),
    ("splurge", "premium", None), ("costly", "premium", "budget"),
    ("cheaper", "cheaper", None), ("less expensive", "cheaper", None), ("less pricey", "cheaper", None),
    ("lower price", "cheaper", None), ("lower priced", "cheaper", None), ("more affordable", "cheaper", None),
    ("too expensive", "cheaper", "budget"), ("too pricey", "cheaper", "budget"), ("too much", "cheaper", None),
    ("too costly", "cheaper", "budget"), ("cheaper one", "cheaper", None), ("lower budget", "cheaper", None),
    ("more expensive", "pricier", None), ("pricier", "pricier", None), ("fancier", "pricier", None),
    ("more premium", "pricier", None), ("higher end", "pricier", None), ("higher price", "pricier", None),
    ("higher priced", "pricier", None), ("more upscale", "pricier", None), ("more luxurious", "pricier", None),
)  # fmt: skip
ELSE_WORDS: tuple[str, ...] = (
    "else", "other", "others", "another", "different", "alternative", "more option", "more idea", "more choice",
    "more suggestion", "more result", "other option", "something new",
)  # fmt: skip
MORE_ENDINGS = frozenset({"like", "please", "of", "similar", "pls", "plz"})  # "show me more please" = something else

AUDIENCE_PROPERTIES = ("audience", "gender", "age_group", "agegroup", "target", "target_audience", "recipient", "for",
                       "segment", "department", "persona")  # fmt: skip
CATEGORY_PROPERTIES = ("category", "categories", "product_category", "product_type", "category_name")
COLOR_PROPERTIES = ("color", "colour", "colors", "colours", "color_name", "colour_name")
COLOR_WORDS = frozenset(
    stem(w)
    for w in _words("""
black white grey silver gold golden red burgundy maroon pink rose orange yellow mustard green olive mint teal
turquoise blue navy purple violet lilac lavender brown beige tan cream ivory khaki charcoal
""")
)
FREE_TEXT_PROPERTIES = frozenset(
    _words("""
title name description summary body text content details url link image image_url thumbnail id item_id sku slug
""")
)


Payload = tuple[str, str | None, str | None]  # (kind, canonical name, kind when negated)
PhraseTable = dict[str, list[tuple[Stems, Payload]]]


def phrase_table(entries: Iterable[tuple[str, Payload]]) -> PhraseTable:
    """Phrases indexed by their first stem, longest first: ``{stem: [(stems, payload), ...]}``."""
    table: PhraseTable = {}
    for phrase, payload in entries:
        key = stems_of(phrase)
        if key:
            table.setdefault(key[0], []).append((key, payload))
    for candidates in table.values():
        candidates.sort(key=lambda c: -len(c[0]))
    return table


LEXICON = phrase_table(
    [(p, ("occasion", name, "occasion")) for name, ps in OCCASIONS.items() for p in ps]
    + [(p, ("recipient", name, "recipient")) for name, ps in RECIPIENTS.items() for p in ps]
    + [(p, ("gift", None, None)) for p in GIFT_WORDS]
    + [(p, (kind, None, negated)) for p, kind, negated in PRICE_WORDS]
    + [(p, ("else", None, None)) for p in ELSE_WORDS]
)
CUES = phrase_table([(p, ("cue", None, None)) for p in NEGATION_CUES] + [(p, ("stop", None, None)) for p in NOT_CUES])

# ---------------------------------------------------------------------------------------------------------------
# Regular expressions on normalised text.

RESET = re.compile(
    r"(?<!\w)(?:start(?:ing)?\s+(?:over|again|afresh)|new\s+search|forget\s+(?:that|it|this|everything|all\s+that|"
    r"about\s+(?:that|it))|never\s*mind|reset|from\s+scratch|clear\s+(?:all|everything|the\s+filters|filters)|"
    r"scratch\s+that|let\s*s\s+try\s+something\s+(?:else|different))(?!\w)"
)

_CUR_PRE = r"(?:[$€£]|usd|eur|gbp)"
_CUR_POST = r"(?:[$€£]|(?:dollars?|euros?|bucks|usd|eur|gbp|pounds?|quid)(?![a-z]))"
_UNITS = (
    r"(?:%|percent|years?|yrs?|yo|y/o|months?|mos?|weeks?|wks?|days?|hours?|hrs?|minutes?|mins?|seconds?|secs?|cm|mm|m|"
    r"meters?|metres?|inch(?:es)?|ft|feet|foot|kg|kgs|g|grams?|lbs?|oz|ounces?|l|liters?|litres?|ml|w|watts?|v|volts?|"
    r"gb|tb|mb|mah|hz|stars?|pieces?|pcs|packs?|people|persons?|players?|seats?|seater|kids|children|items?|x|pairs?|"
    r"times|th|st|nd|rd)"
)


def money(name: str) -> str:
    """An amount with optional currency, as groups ``{name}c1`` (prefix), ``{name}v``, ``{name}k``, ``{name}c2``."""
    return (
        rf"(?:(?P<{name}c1>{_CUR_PRE})\s*)?(?<![\w.,])"
        rf"(?P<{name}v>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![.,]?\d)(?P<{name}k>k(?![a-z]))?"
        rf"(?:\s*(?P<{name}c2>{_CUR_POST})|(?!\s*{_UNITS}(?![a-z])))"
    )


_MAX_CUE = (
    r"nothing\s+(?:over|above|more\s+than|pricier\s+than|more\s+expensive\s+than)|no\s+more\s+than|"
    r"not\s+more\s+than|no\s+higher\s+than|no\s+more\s+expensive\s+than|not\s+over|not\s+above|"
    r"not\s+exceeding|under|below|beneath|less\s+than|lower\s+than|cheaper\s+than|for\s+less\s+than|"
    r"max(?:imum)?\.?(?:\s+of)?\s*:?|up\s+to|at\s+most|within|(?:my\s+)?budget\s*(?:is|of|:)?\s*(?:max|up\s+to)?|"
    r"<=?|≤|no\s+pricier\s+than"
)
_MIN_CUE = (
    r"nothing\s+(?:under|below|less\s+than|cheaper\s+than)|no\s+less\s+than|not\s+less\s+than|not\s+under|"
    r"not\s+below|no\s+cheaper\s+than|over|above|more\s+than|"
    r"greater\s+than|higher\s+than|pricier\s+than|more\s+expensive\s+than|at\s+least|min(?:imum)?\.?(?:\s+of)?\s*:?|"
    r"from|starting\s+(?:at|from)|upwards\s+of|>=?|≥"
)
_AROUND_CUE = (
    r"(?:my\s+)?budget\s*(?:is|of|:)?\s*(?:around|about|roughly)|around|about|approximately|approx\.?|roughly|circa|"
    r"close\s+to|near|~|≈|something\s+like|in\s+the\s+range\s+of|in\s+the\s+region\s+of"
)
WEAK_CUES = frozenset({"from", "about", "near", "within", "circa"})  # need a currency (or a non-year amount)

PRICE_RANGE = re.compile(
    rf"(?<!\w)between\s+{money('a')}\s+and\s+{money('b')}"
    rf"|(?<!\w)from\s+{money('c')}\s*(?:to|-|\u2013|\u2014)\s*{money('d')}"
    rf"|{money('e')}\s*(?:-|\u2013|\u2014|to)\s*{money('f')}"
)
PRICE_PREFIX = re.compile(
    rf"(?<![\w<>~≈≤≥])(?:(?P<around>{_AROUND_CUE})|(?P<max>{_MAX_CUE})|(?P<min>{_MIN_CUE}))\s*{money('p')}"
)
PRICE_POSTFIX = re.compile(
    rf"{money('q')}\s*(?:(?P<pmax>or\s+(?:less|under|below|cheaper|lower)|max(?:imum)?|tops|at\s+(?:the\s+)?most)"
    r"|(?P<pmin>\+|or\s+(?:more|above|over|higher)|and\s+(?:up|above|over|higher)|plus|minimum|min|at\s+least)"
    r"|(?P<pabout>-?ish|or\s+so))(?![a-z])"
)
PRICE_BARE = re.compile(money("r"))
AGE_BEFORE = re.compile(
    r"(?:kids?|child|children|toddlers?|bab(?:y|ies)|boys?|girls?|ages?|aged|sons?|daughters?|grandkids?|nephews?|"
    r"nieces?|teens?|infants?|players?|people|persons?)\W*$"
)

_VERB = (
    r"(?:just\s+)?(?:looked\s+at|was\s+looking\s+at|been\s+looking\s+at|viewed|saw|seen|clicked(?:\s+on)?|liked|loved|"
    r"bought|purchased|ordered|added(?:\s+to\s+(?:my\s+)?(?:cart|basket|wishlist))?|browsed|checked(?:\s+out)?|"
    r"opened|visited|picked|selected|chose|found|had\s+in\s+my\s+(?:cart|basket)|got)"
)
_SUBJECT = r"(?:that\s+|which\s+)?(?:i|we|ive|weve|id)\s+(?:have\s+|had\s+|just\s+)?"
_WORD = r"[^\W\d_]+"
# "the desk I looked at", "that lamp I clicked on", "the one we viewed"
REFERENCE_VERB = re.compile(
    rf"(?<!\w)(?:the|that|this|those|these)\s+(?P<noun>{_WORD}(?:[\s-]+{_WORD}){{0,2}}?)\s+{_SUBJECT}{_VERB}(?!\w)"
)
# "like the desk", "similar to that lamp", "cheaper than this one", "like it"
REFERENCE_CUE = re.compile(
    r"(?<!\w)(?:like|similar\s+to|same\s+as|than|as|alternatives?\s+to|compared\s+to|goes\s+with|go\s+with|"
    rf"pairs?\s+with|match(?:es|ing)?)\s+(?:(?:the|that|this)\s+(?P<noun>{_WORD}(?:\s+{_WORD})?)|"
    r"(?P<pronoun>it|this|that))(?!\w)"
)
# "that one", "the last one", "the previous item", bare "it"
REFERENCE_GENERIC = re.compile(
    r"(?<!\w)(?:(?:that|this|the\s+last|the\s+latest|the\s+previous|the\s+same|the\s+last\s+viewed)\s+"
    r"(?:one|item|product)|it)(?!\w)"
)
NEGATED_BEFORE = re.compile(r"(?<!\w)(?:not|no|except|but|other\s+than|rather\s+than|instead\s+of)\s*$")
CLAUSE_SPLIT = re.compile(r"[.,;:!?()\[\]{}\n\r\t\"|/\\]+|(?<!\w)-+(?!\w)")


# ---------------------------------------------------------------------------------------------------------------
# Prices


def _amount(match: Match[str], name: str) -> float | None:
    raw = match.group(f"{name}v")
    if raw is None:
        return None
    value = float(raw.replace(",", "")) * (1000 if match.group(f"{name}k") else 1)
    return value if math.isfinite(value) else None


def _has_currency(match: Match[str], name: str) -> bool:
    return bool(match.group(f"{name}c1") or match.group(f"{name}c2"))


def _about_age(match: Match[str]) -> bool:
    return bool(AGE_BEFORE.search(match.string[max(0, match.start() - 40) : match.start()]))


def find_prices(text: str) -> tuple[str, float | None, float | None]:
    """``(text with the amounts blanked out, min_price, max_price)``; blanks keep the length, so positions hold."""
    found: list[tuple[int, str, float, float]] = []  # (position, kind, low, high)

    def blank(match: Match[str]) -> str:
        return ";" + " " * (len(match.group(0)) - 1)

    def on_range(match: Match[str]) -> str:
        low_name, high_name = next((lo, hi) for lo, hi in (("a", "b"), ("c", "d"), ("e", "f")) if match.group(f"{lo}v"))
        low, high = _amount(match, low_name), _amount(match, high_name)
        currency = _has_currency(match, low_name) or _has_currency(match, high_name)
        if low is None or high is None or (not currency and _about_age(match)):
            return match.group(0)
        if match.group(f"{high_name}k") and not match.group(f"{low_name}k") and low * 1000 <= high:
            low *= 1000  # "1-2k"
        found.append((match.start(), "range", min(low, high), max(low, high)))
        return blank(match)

    def on_cue(match: Match[str]) -> str:
        value = _amount(match, "p")
        if value is None:
            return match.group(0)
        kind = "around" if match.group("around") else "max" if match.group("max") else "min"
        cue = (match.group(kind) or "").split()
        if not _has_currency(match, "p"):
            year_like = 1900 <= value <= 2099 and value.is_integer()
            if _about_age(match) or (cue and cue[0] in WEAK_CUES and year_like):
                return match.group(0)
        found.append((match.start(), kind, value, value))
        return blank(match)

    def on_postfix(match: Match[str]) -> str:
        value = _amount(match, "q")
        if value is None or (not _has_currency(match, "q") and _about_age(match)):
            return match.group(0)
        kind = "max" if match.group("pmax") else "min" if match.group("pmin") else "around"
        found.append((match.start(), kind, value, value))
        return blank(match)

    def on_bare(match: Match[str]) -> str:
        value = _amount(match, "r")
        if value is None or not _has_currency(match, "r"):
            return match.group(0)
        found.append((match.start(), "around", value, value))
        return blank(match)

    text = PRICE_RANGE.sub(on_range, text)
    text = PRICE_PREFIX.sub(on_cue, text)
    text = PRICE_POSTFIX.sub(on_postfix, text)
    text = PRICE_BARE.sub(on_bare, text)
    min_price: float | None = None
    max_price: float | None = None
    for _, kind, low, high in sorted(found):
        if kind == "around":
            low, high = round(low * (1 - AROUND), 2), round(high * (1 + AROUND), 2)
        if kind in ("range", "around", "min"):
            min_price = low
        if kind in ("range", "around", "max"):
            max_price = high
    if min_price is not None and max_price is not None and min_price > max_price:
        min_price, max_price = max_price, min_price
    return text, min_price, max_price


# ---------------------------------------------------------------------------------------------------------------
# The vocabulary index


class VocabularyIndex:
    """A vocabulary's values by folded form, looked up from a message word's first stem (no scan of all values)."""

    def __init__(self, values: Mapping[str, Sequence[str]]) -> None:
        names = [str(name) for name in values]
        lowered = {name.lower(): name for name in reversed(names)}  # the first spelling wins
        self.category = next((lowered[n] for n in CATEGORY_PROPERTIES if n in lowered), None)
        self.order = tuple([self.category] if self.category else []) + tuple(n for n in names if n != self.category)
        self.audience = tuple(n for n in self.order if n.lower() in AUDIENCE_PROPERTIES)
        colors = tuple(n for n in self.order if n.lower() in COLOR_PROPERTIES)
        self.by_key: dict[Stems, list[tuple[str, Values]]] = {}
        partial: dict[str, dict[str, list[str]]] = {}  # word → property → values
        for name in self.order:
            raw = values[name]
            per_key: dict[Stems, list[str]] = {}
            for value in [raw] if isinstance(raw, str) else raw:
                if not isinstance(value, str) or not any(c.isalpha() for c in value):
                    continue
                tokens = tokenize(normalize(value))
                key = tuple(stem(t) for t in tokens)
                if not key or (len(key) == 1 and (tokens[0] in STOP_WORDS or key[0] in STOP_WORDS)):
                    continue
                per_key.setdefault(key, []).append(value)
            for key, found in per_key.items():
                self.by_key.setdefault(key, []).append((name, tuple(found)))
                if len(key) < 2:
                    continue
                words = {w for w in key if w in COLOR_WORDS}
                if name == self.category and key[-1] not in STOP_WORDS and len(key[-1]) > 2:
                    words.add(key[-1])
                for word in words:
                    partial.setdefault(word, {}).setdefault(name, []).extend(found)
        self.by_first: dict[str, list[Stems]] = {}
        for key in self.by_key:
            self.by_first.setdefault(key[0], []).append(key)
        for keys in self.by_first.values():
            keys.sort(key=len, reverse=True)
        self.partial: dict[str, tuple[str, Values]] = {}
        for word, by_property in partial.items():
            if (word,) in self.by_key:
                continue
            preferred = [n for n in (self.category, *colors) if n in by_property]
            name = preferred[0] if preferred else next(n for n in self.order if n in by_property)
            self.partial[word] = (name, tuple(dict.fromkeys(by_property[name])))

    def match(self, stems: Sequence[str], i: int) -> tuple[int, str, Values] | None:
        """The longest value starting at word ``i``: (length, property, values)."""
        for key in self.by_first.get(stems[i], ()):
            if tuple(stems[i : i + len(key)]) == key:
                name, values = self.by_key[key][0]
                return len(key), name, values
        return None

    def lookup(self, candidates: Iterable[str], prefer: Sequence[str] = ()) -> tuple[str, Values] | None:
        """The first candidate phrase the catalog has, in a ``prefer`` property if it is there."""
        for candidate in candidates:
            entries = self.by_key.get(stems_of(candidate))
            if entries:
                return next((e for p in prefer for e in entries if e[0] == p), entries[0])
        return None

    def concept(self, kind: str, name: str | None) -> tuple[str, Values] | None:
        if kind == "recipient" and name:
            return self.lookup(RECIPIENT_VALUES.get(name, ()), self.audience)
        if kind == "occasion" and name:
            return self.lookup((name, *OCCASIONS.get(name, ())))
        return None
