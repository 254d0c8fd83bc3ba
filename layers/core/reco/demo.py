"""The project's own demo tenant: a small seeded e-commerce shop whose shoppers have tastes.

``make run``, the README examples and the chat endpoint need data that looks like a real shop, trains a model in
about a second and may be redistributed (MovieLens may not). Everything here is invented and drawn from one numpy
Generator, so a seed always yields byte-identical data. Users carry hidden tastes (categories, price sensitivity,
brands, colours, a latent style vector matched against each item's) and their events follow them, so a model
trained on the events has something real to learn.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

DEFAULT_NOW = datetime(2026, 11, 1, tzinfo=UTC)
EVENT_TYPES = ("view", "add_to_cart", "purchase", "rating")
TRENDING_DAYS = 7
_DAY = 86_400
_STYLE_DIMS = 4

_Floats = npt.NDArray[np.float64]
_Ints = npt.NDArray[np.int64]


class Category(NamedTuple):
    name: str
    products: tuple[tuple[str, str], ...]  # (material, noun): the title reads "<brand> [<adjective>] <material> <noun>"
    adjectives: tuple[str, ...]
    brands: tuple[str, ...]
    price: tuple[float, float]
    uses: tuple[str, ...]
    audiences: tuple[str, ...]  # repeated entries weight the draw
    tags: tuple[str, ...]  # the first always applies, one or two of the rest are drawn


# fmt: off
CATEGORIES: tuple[Category, ...] = (
    Category("desks", (("Solid Oak", "Workshop Desk"), ("Walnut", "Writing Desk"), ("Bamboo", "Standing Desk"),
         ("Steel Frame", "Corner Desk"), ("Pine", "Study Desk"), ("Beech", "Laptop Desk"),
         ("Birch Plywood", "Gaming Desk"), ("Glass Top", "Computer Desk")),
        ("Compact", "Adjustable", "Minimalist", "Scandinavian", "Industrial", "Foldable"),
        ("Itelio", "Oakhaven", "Deskwright", "Nordbench"), (89.0, 749.0), ("built for home offices and small studios",
         "for focused work, homework and hobby projects", "that fits neatly into a bedroom corner"),
        ("adults", "adults", "unisex", "kids"), ("furniture", "home office", "work from home", "study")),
    Category("chairs", (("Mesh", "Office Chair"), ("Leather", "Executive Chair"), ("Solid Oak", "Dining Chair"),
         ("Velvet", "Armchair"), ("Rattan", "Lounge Chair"), ("Beech", "Rocking Chair"), ("Fabric", "Gaming Chair"),
         ("Moulded Plastic", "Stacking Chair")),
        ("Ergonomic", "Swivel", "Mid-Century", "Cushioned", "High-Back", "Lightweight"),
        ("Sitwell", "Restora", "Chairloft", "Kavu"), (49.0, 599.0),
        ("for long days at the desk", "for dining rooms and reading corners", "that supports good posture"),
        ("adults", "adults", "unisex", "kids"), ("furniture", "home office", "ergonomic", "living room")),
    Category("lamps", (("Brass", "Desk Lamp"), ("Linen", "Floor Lamp"), ("Ceramic", "Table Lamp"),
         ("Rattan", "Pendant Light"), ("Aluminium", "Reading Lamp"), ("Walnut", "Bedside Lamp"),
         ("Frosted Glass", "Night Light"), ("Paper", "Lantern")),
        ("Dimmable", "LED", "Adjustable", "Smart", "Vintage", "Cordless"),
        ("Lumora", "Glowden", "Halvik", "Brightfield"), (19.0, 249.0), ("that casts a warm, even light for reading",
         "for bedside tables and cosy corners", "that sets the mood in a living room"),
        ("unisex", "adults", "kids"), ("lighting", "home decor", "energy saving", "bedroom")),
    Category("backpacks", (("Canvas", "Daypack"), ("Recycled Nylon", "Hiking Backpack"), ("Leather", "Laptop Backpack"),
         ("Waxed Cotton", "Rucksack"), ("Ripstop", "Travel Pack"), ("Polyester", "School Backpack"),
         ("Ballistic Nylon", "Commuter Pack"), ("Mesh", "Running Vest")),
        ("Waterproof", "Roll-Top", "Lightweight", "Anti-Theft", "Expandable", "Packable"),
        ("Trailmade", "Packwell", "Urbanroo", "Nomada"), (29.0, 229.0), ("for commuting, travel and weekend hikes",
         "that keeps a laptop and lunch organised", "built for school days and day trips"),
        ("unisex", "unisex", "kids", "men", "women"), ("bags", "travel", "outdoor", "commute", "laptop")),
    Category("headphones", (("Memory Foam", "Over-Ear Headphones"), ("Aluminium", "On-Ear Headphones"),
         ("Silicone", "Earbuds"), ("Walnut", "Studio Headphones"), ("Titanium", "Sport Earbuds"),
         ("Leather", "DJ Headphones"), ("Recycled Plastic", "Headset")),
        ("Wireless", "Noise-Cancelling", "Bluetooth", "Foldable", "Hi-Fi", "Low-Latency"),
        ("Sonique", "Auralis", "Beatform", "Quietly"), (19.0, 399.0), ("for commutes, flights and focused work",
         "for clear sound during workouts", "for gaming, calls and late-night listening"),
        ("unisex", "adults", "kids"), ("audio", "electronics", "travel", "music")),
    Category("kitchen", (("Cast Iron", "Skillet"), ("Stainless Steel", "Saucepan"), ("Enamelled", "Casserole Dish"),
         ("Ceramic", "Mixing Bowl Set"), ("Bamboo", "Cutting Board"), ("Copper", "Kettle"), ("Carbon Steel", "Wok"),
         ("Borosilicate Glass", "Storage Set")),
        ("Everyday", "Professional", "Heavy-Duty", "Chef's", "Classic", "Essential"),
        ("Cookhaus", "Simmerly", "Panterra", "Forkwell"), (14.0, 279.0),
        ("for weeknight dinners and slow Sunday roasts", "that goes from stovetop to table",
         "that makes meal prep quicker"), ("adults", "adults", "unisex"),
        ("kitchen", "cooking", "home", "dishwasher safe")),
    Category("toys", (("Wooden", "Building Blocks"), ("Plush", "Teddy Bear"), ("Beech", "Train Set"),
         ("Recycled Plastic", "Dump Truck"), ("Felt", "Play Kitchen"), ("Cardboard", "Marble Run"),
         ("Organic Cotton", "Rag Doll"), ("Magnetic", "Puzzle Set")),
        ("Classic", "Colourful", "Montessori", "Stackable", "Mini", "Deluxe"),
        ("Tinkertot", "Playhaven", "Wobblewood", "Kiddimo"), (9.0, 129.0), ("for imaginative play and early learning",
         "for building fine motor skills", "for rainy afternoons and family game nights"),
        ("kids",), ("toys", "educational", "gift", "kids")),
    Category("running shoes", (("Breathable Mesh", "Road Running Shoe"), ("Knit", "Daily Trainer"),
         ("Gore-Tex", "Trail Running Shoe"), ("Recycled Mesh", "Racing Flat"), ("Carbon Plate", "Marathon Racer"),
         ("Foam", "Recovery Shoe")),
        ("Cushioned", "Lightweight", "Stability", "Responsive", "All-Weather", "Wide-Fit"),
        ("Stridex", "Paceline", "Runbird", "Kinetica"), (59.0, 249.0),
        ("for daily miles and long weekend runs", "that grips on wet trails", "tuned for race day and tempo runs"),
        ("men", "women", "kids", "unisex"), ("running", "sport", "fitness", "outdoor")),
    Category("jackets", (("Down", "Puffer Jacket"), ("Waxed Cotton", "Field Jacket"), ("Wool", "Peacoat"),
         ("Fleece", "Zip Jacket"), ("Leather", "Biker Jacket"), ("Recycled Nylon", "Rain Jacket"),
         ("Denim", "Trucker Jacket"), ("Softshell", "Hiking Jacket")),
        ("Insulated", "Packable", "Hooded", "Water-Resistant", "Classic", "Cropped"),
        ("Northloom", "Fjellwear", "Cobbleton", "Aeroform"), (39.0, 449.0), ("for cold commutes and winter weekends",
         "that layers easily over a sweater", "for hikes, festivals and everyday wear"),
        ("men", "women", "kids", "unisex"), ("outerwear", "winter", "outdoor", "fashion")),
    Category("books", (("Hardcover", "Cookbook"), ("Paperback", "Mystery Novel"), ("Softcover", "Field Guide"),
         ("Board", "Picture Book"), ("Paperback", "Sci-Fi Novel"), ("Spiral-Bound", "Puzzle Book"),
         ("Hardcover", "Biography"), ("Paperback", "Travel Guide")),
        ("Bestselling", "Award-Winning", "Collector's", "Pocket", "Annotated", "Illustrated"),
        ("Penwright", "Inkfield Press", "Larkspur Books", "Folio & Fern"), (7.0, 59.0),
        ("for quiet evenings and long train rides", "that makes a lovely bedtime read",
         "packed with tips, stories and photographs"), ("adults", "adults", "kids", "unisex"),
        ("books", "reading", "learning", "gift")),
)
COLORS = ("black", "white", "charcoal grey", "navy blue", "forest green", "walnut brown", "natural oak",
          "sand beige", "burgundy red", "mustard yellow", "sky blue", "blush pink")
COUNTRIES = (("US", 0.35), ("GB", 0.12), ("DE", 0.12), ("FR", 0.1), ("CA", 0.08), ("ES", 0.06), ("IT", 0.06),
             ("NL", 0.04), ("AU", 0.04), ("JP", 0.03))
AGE_GROUPS = (("18-24", 0.16), ("25-34", 0.3), ("35-44", 0.25), ("45-54", 0.16), ("55+", 0.13))
OCCASIONS = (("birthday", "a birthday"), ("christmas", "Christmas"), ("back to school", "the new school year"),
             ("mothers day", "Mother's Day"), ("fathers day", "Father's Day"), ("housewarming", "a housewarming"))
KEYWORD_TAGS = (("Oak", "solid wood"), ("Walnut", "solid wood"), ("Beech", "solid wood"), ("Pine", "solid wood"),
                ("Wooden", "solid wood"), ("Bamboo", "eco"), ("Recycled", "eco"), ("Organic", "eco"),
                ("Wireless", "wireless"), ("Bluetooth", "wireless"), ("Earbuds", "wireless"), ("Leather", "leather"),
                ("Waterproof", "waterproof"), ("Gore-Tex", "waterproof"), ("Ergonomic", "ergonomic"))
_PROPER_WORDS = ("Gore-Tex",)
AUDIENCE_PHRASES = (("adults", "Made for grown-ups"), ("kids", "Sized and safety-tested for kids"),
                    ("men", "Styled for men"), ("women", "Styled for women"), ("unisex", "A unisex design"))
# fmt: on


@dataclass(frozen=True)
class DemoData:
    items: list[dict[str, Any]]
    users: list[dict[str, Any]]
    events: list[dict[str, Any]]


class _Catalog(NamedTuple):
    """The hidden side of the items: what user tastes are matched against."""

    category: _Ints
    brand: _Ints  # a global brand index, unique across categories
    color: _Ints
    price_z: _Floats  # log price within the category's range, scaled to about [-1, 1]
    quality: _Floats
    style: _Floats  # the latent vector, (n_items, _STYLE_DIMS)
    created: _Ints  # epoch seconds
    in_stock: npt.NDArray[np.bool_]
    on_sale: npt.NDArray[np.bool_]


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _lower(text: str) -> str:
    """Lower-case for running prose, keeping trademarks (Gore-Tex) and acronyms (DJ, LED)."""
    return " ".join(w if w.isupper() or w in _PROPER_WORDS else w.lower() for w in text.split())


def _pick(rng: np.random.Generator, options: tuple[Any, ...]) -> Any:
    return options[int(rng.integers(len(options)))]


def _items(rng: np.random.Generator, n: int, end: int) -> tuple[list[dict[str, Any]], _Catalog]:
    cats = rng.permutation(np.arange(n) % len(CATEGORIES))
    brand_offsets = np.cumsum([0] + [len(c.brands) for c in CATEGORIES])
    quality = rng.normal(size=n)
    in_stock = np.ones(n, dtype=bool)
    in_stock[rng.choice(n, size=round(n * 0.1), replace=False)] = False
    on_sale = rng.random(n) < 0.18
    colors = rng.integers(len(COLORS), size=n)
    age_days = np.where(rng.random(n) < 0.1, rng.integers(0, 30, size=n), rng.integers(30, 730, size=n))
    created = (end - age_days * _DAY) // _DAY * _DAY
    audiences = dict(AUDIENCE_PHRASES)
    items: list[dict[str, Any]] = []
    titles: set[str] = set()
    brands, price_z = np.zeros(n, dtype=np.int64), np.zeros(n)
    for i in range(n):
        spec = CATEGORIES[int(cats[i])]
        for _ in range(50):  # redraw until the title is new; gives up (and repeats) only on tiny vocabularies
            b, (material, noun) = int(rng.integers(len(spec.brands))), _pick(rng, spec.products)
            adjective = _pick(rng, spec.adjectives) + " " if rng.random() < 0.6 else ""
            title = f"{spec.brands[b]} {adjective}{material} {noun}"
            if title not in titles:
                break
        titles.add(title)
        brands[i] = brand_offsets[int(cats[i])] + b
        lo, hi = math.log(spec.price[0]), math.log(spec.price[1])
        log_price = rng.uniform(lo, hi)
        price_z[i] = (2 * log_price - lo - hi) / (hi - lo)
        audience = _pick(rng, spec.audiences)
        extra = rng.choice(len(spec.tags) - 1, size=int(rng.integers(1, 3)), replace=False) + 1
        tags = [spec.tags[0], *(spec.tags[int(k)] for k in sorted(extra))]
        tags += [tag for word, tag in KEYWORD_TAGS if word in title]
        tags += {"kids": ["kids"], "men": ["for dad"], "women": ["for mom"]}.get(audience, [])
        color = COLORS[int(colors[i])]
        phrase = _lower(f"{material} {noun}")
        article = "" if noun.endswith("s") else "An " if phrase[0] in "aeiou" else "A "  # "Silicone earbuds ..."
        description = f"{article}{phrase} {_pick(rng, spec.uses)}, in {color}. "
        description = description[0].upper() + description[1:]
        if rng.random() < 0.35:
            occasion, occasion_phrase = _pick(rng, OCCASIONS)
            tags += ["gift", occasion]
            description += f"{audiences[audience]}, and a thoughtful gift for {occasion_phrase}."
        else:
            description += f"{audiences[audience]}."
        items.append(
            {
                "id": f"sku-{i + 1:04d}",
                "properties": {
                    "title": title,
                    "description": description,
                    "category": spec.name,
                    "brand": spec.brands[b],
                    "price": round(math.floor(math.exp(log_price)) + 0.99, 2),
                    "stock": int(rng.integers(1, 250)) if in_stock[i] else 0,
                    "on_sale": bool(on_sale[i]),
                    "color": color,
                    "tags": list(dict.fromkeys(tags)),
                    "audience": audience,
                    "created_at": _iso(int(created[i]))[:10],
                    "rating": round(float(np.clip(3.9 + 0.5 * quality[i] + rng.normal(0, 0.2), 1.0, 5.0)), 1),
                },
            }
        )
    style = rng.normal(size=(n, _STYLE_DIMS))
    return items, _Catalog(cats, brands, colors, price_z, quality, style, created, in_stock, on_sale)


def generate_demo(
    seed: int = 7, n_items: int = 400, n_users: int = 300, days: int = 60, now: datetime | None = None
) -> DemoData:
    """Items, users and their events over the ``days`` before ``now`` (default :data:`DEFAULT_NOW`).

    Events run in sessions: views drawn from a user's taste times item popularity, a few carts among the
    items they like most, purchases among the carted, and ratings days later. Purchases follow a cart and a
    view in the same session; a handful of trending items gain popularity over the last week; no event
    precedes its item's ``created_at`` or its user's ``signup_date``.
    """
    if n_items < 1 or n_users < 1 or days < 1:
        raise ValueError("n_items, n_users and days must be positive")
    now = DEFAULT_NOW if now is None else now if now.tzinfo else now.replace(tzinfo=UTC)
    end = int(now.timestamp())
    start = end - days * _DAY
    rng = np.random.default_rng(seed)
    items, cat = _items(rng, n_items, end)
    n_cats = len(CATEGORIES)

    pref = rng.dirichlet(np.full(n_cats, 0.35), size=n_users)
    ranked = np.argsort(-pref, axis=1, kind="stable")
    brand_offsets = np.cumsum([0] + [len(c.brands) for c in CATEGORIES])
    sizes = np.diff(brand_offsets)
    top_brands = brand_offsets[ranked[:, :2]] + rng.integers(0, sizes[ranked[:, :2]])
    top_colors = np.stack([rng.choice(len(COLORS), size=2, replace=False) for _ in range(n_users)])
    sensitivity = rng.uniform(0.0, 1.5, size=n_users)
    taste = (
        np.log(pref[:, cat.category] + 0.01)
        + 0.35 * rng.normal(size=(n_users, _STYLE_DIMS)) @ cat.style.T
        + 0.9 * (cat.brand[None, :, None] == top_brands[:, None, :]).any(axis=2)
        + 0.5 * (cat.color[None, :, None] == top_colors[:, None, :]).any(axis=2)
        - sensitivity[:, None] * cat.price_z[None, :]
        + 0.3 * cat.quality[None, :]
    )
    liking = (taste - taste.mean(axis=1, keepdims=True)) / (taste.std(axis=1, keepdims=True) + 1e-9)
    per_category = np.bincount(cat.category, minlength=n_cats)
    # Dividing by category size makes a user's category shares follow their preference; the normal term is the
    # items' log-popularity, whose long tail gives a few items most of the views.
    views = taste - np.log(per_category[cat.category]) + rng.normal(0.0, 1.1, size=n_items)
    trending = np.zeros(n_items)
    trending[rng.choice(n_items, size=max(1, n_items // 50), replace=False)] = 4.0
    p_cart = 1 / (1 + np.exp(-(1.3 * liking - 4.0 + 0.5 * cat.on_sale))) * np.where(cat.in_stock, 1.0, 0.3)

    signup = np.where(
        rng.random(n_users) < 0.8,
        start - rng.integers(1, 900, size=n_users) * _DAY - rng.integers(0, _DAY, size=n_users),
        start + (rng.random(n_users) * 0.8 * days * _DAY).astype(np.int64),
    )
    activity = 0.07 * rng.lognormal(0.0, 0.5, size=n_users)
    users: list[dict[str, Any]] = []
    raw: list[tuple[int, int, int, str, float | None]] = []  # (time, user, item, type, value)
    for u in range(n_users):
        first = max(int(signup[u]), start)
        n_sessions = 1 + int(rng.poisson(activity[u] * (end - first) / _DAY))
        for t0 in np.sort(rng.integers(first, end - 3 * 3600, size=n_sessions)):
            ramp = min(max((t0 - end + TRENDING_DAYS * _DAY) / (TRENDING_DAYS * _DAY), 0.0), 1.0)
            logits = np.where(cat.created <= t0, views[u] + ramp * trending, -np.inf)
            if np.isneginf(logits).all():
                continue  # nothing in the catalogue yet
            p = np.exp(logits - logits.max())
            k = min(1 + int(rng.poisson(2.6)), 12, int((p > 0).sum()))
            seen = rng.choice(n_items, size=k, replace=False, p=p / p.sum())
            times = int(t0) + np.cumsum(rng.integers(20, 300, size=k))
            raw += [(int(t), u, int(i), "view", None) for t, i in zip(times, seen, strict=True)]
            carted = rng.random(k) < p_cart[u, seen]
            raw += [
                (int(t) + int(rng.integers(10, 120)), u, int(i), "add_to_cart", None)
                for t, i in zip(times[carted], seen[carted], strict=True)
            ]
            bought = seen[carted][rng.random(int(carted.sum())) < 0.3 + 0.1 * liking[u, seen[carted]]]
            checkout = int(times[-1]) + 300 + int(rng.integers(0, 600))
            for i in bought:
                raw.append((checkout, u, int(i), "purchase", None))
                rated = checkout + int(rng.integers(1, 10 * _DAY))
                if rng.random() < 0.5 and rated < end:
                    stars = np.clip(np.rint(2.8 + 0.6 * liking[u, i] + cat.quality[i] * 0.5 + rng.normal()), 1, 5)
                    raw.append((rated, u, int(i), "rating", float(stars)))
        country = rng.choice(len(COUNTRIES), p=[w for _, w in COUNTRIES])
        age = rng.choice(len(AGE_GROUPS), p=[w for _, w in AGE_GROUPS])
        properties = {
            "country": COUNTRIES[int(country)][0],
            "age_group": AGE_GROUPS[int(age)][0],
            "favorite_category": CATEGORIES[int(ranked[u, 0])].name,  # the category the user's taste weights most
            "signup_date": _iso(int(signup[u]))[:10],
        }
        users.append({"id": f"user-{u + 1:03d}", "properties": properties})

    events: list[dict[str, Any]] = []
    for n, (t, u, i, kind, value) in enumerate(sorted(raw, key=lambda e: e[0]), start=1):  # stable: ties keep order
        event: dict[str, Any] = {"event_id": f"evt-{n:06d}", "user_id": users[u]["id"], "item_id": items[i]["id"]}
        event |= {"type": kind, "timestamp": _iso(t)} | ({} if value is None else {"value": value})
        events.append(event)
    return DemoData(items=items, users=users, events=events)


def summary(data: DemoData) -> dict[str, Any]:
    """Counts worth printing after generating: events per type, items per category, price range."""
    by_type = Counter(e["type"] for e in data.events)
    props = [item["properties"] for item in data.items]
    prices = [p["price"] for p in props]
    return {
        "items": len(data.items),
        "users": len(data.users),
        "events": len(data.events),
        "events_by_type": {kind: by_type[kind] for kind in EVENT_TYPES},
        "categories": dict(sorted(Counter(p["category"] for p in props).items())),
        "price_range": [min(prices), max(prices)],
        "out_of_stock": sum(p["stock"] == 0 for p in props),
        "on_sale": sum(p["on_sale"] for p in props),
        "first_event": data.events[0]["timestamp"] if data.events else None,
        "last_event": data.events[-1]["timestamp"] if data.events else None,
    }
