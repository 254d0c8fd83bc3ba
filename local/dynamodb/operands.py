"""What DynamoDB expressions are made of: placeholders, document paths and operands, and projections.

``Placeholders`` resolves ``#name`` and ``:value`` and remembers which were used, so a request
naming one it never uses is refused as DynamoDB refuses it. Operands evaluate against items in
wire form; ``project`` cuts an item down to the paths a projection names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from local.dynamodb.errors import ValidationError
from local.dynamodb.values import AttributeValue, Item, add_numbers, binary, type_of


# ------------------------------------------------------------------------------------ placeholders
@dataclass
class Placeholders:
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, AttributeValue] = field(default_factory=dict)
    used_names: set[str] = field(default_factory=set)
    used_values: set[str] = field(default_factory=set)

    def name(self, token: str, kind: str) -> str:
        if token not in self.names:
            raise ValidationError(
                f"Invalid {kind}: An expression attribute name used in the document path is not defined; "
                f"attribute name: {token}"
            )
        self.used_names.add(token)
        return self.names[token]

    def value(self, token: str, kind: str) -> AttributeValue:
        if token not in self.values:
            raise ValidationError(
                f"Invalid {kind}: An expression attribute value used in expression is not defined; "
                f"attribute value: {token}"
            )
        self.used_values.add(token)
        return self.values[token]

    def check_all_used(self) -> None:
        unused_names = set(self.names) - self.used_names
        if unused_names:
            keys = ", ".join(sorted(unused_names))
            raise ValidationError(f"Value provided in ExpressionAttributeNames unused in expressions: keys: {{{keys}}}")
        unused_values = set(self.values) - self.used_values
        if unused_values:
            keys = ", ".join(sorted(unused_values))
            raise ValidationError(
                f"Value provided in ExpressionAttributeValues unused in expressions: keys: {{{keys}}}"
            )


# ------------------------------------------------------------------------------------ operands
PathElement = str | int


@dataclass(frozen=True)
class Path:
    elements: tuple[PathElement, ...]

    def __str__(self) -> str:
        text = ""
        for element in self.elements:
            text += f"[{element}]" if isinstance(element, int) else f".{element}"
        return text.lstrip(".")

    def resolve(self, item: Item) -> AttributeValue | None:
        current: Any = {"M": item}
        for element in self.elements:
            if isinstance(element, int):
                values = current.get("L") if isinstance(current, dict) else None
                if values is None or element >= len(values):
                    return None
                current = values[element]
            else:
                members = current.get("M") if isinstance(current, dict) else None
                if members is None or element not in members:
                    return None
                current = members[element]
        return current  # type: ignore[no-any-return]

    def evaluate(self, item: Item) -> AttributeValue | None:
        return self.resolve(item)


@dataclass(frozen=True)
class Constant:
    value: AttributeValue

    def evaluate(self, item: Item) -> AttributeValue | None:
        return self.value


@dataclass(frozen=True)
class Size:
    path: Path

    def evaluate(self, item: Item) -> AttributeValue | None:
        value = self.path.resolve(item)
        if value is None:
            return None
        kind = type_of(value)
        inner = value[kind]
        if kind == "S":
            return {"N": str(len(inner))}
        if kind == "B":
            return {"N": str(len(binary(inner)))}
        if kind in ("SS", "NS", "BS", "L", "M"):
            return {"N": str(len(inner))}
        return None


@dataclass(frozen=True)
class IfNotExists:
    path: Path
    fallback: Any

    def evaluate(self, item: Item) -> AttributeValue | None:
        found = self.path.resolve(item)
        return found if found is not None else self.fallback.evaluate(item)


@dataclass(frozen=True)
class ListAppend:
    left: Any
    right: Any

    def evaluate(self, item: Item) -> AttributeValue | None:
        left, right = self.left.evaluate(item), self.right.evaluate(item)
        for side in (left, right):
            if side is None or type_of(side) != "L":
                raise ValidationError(
                    "The provided expression refers to an attribute that does not exist in the item"
                    if side is None
                    else "An operand in the update expression has an incorrect data type"
                )
        return {"L": [*left["L"], *right["L"]]}  # type: ignore[index]


@dataclass(frozen=True)
class Arithmetic:
    left: Any
    operator: str
    right: Any

    def evaluate(self, item: Item) -> AttributeValue | None:
        left, right = self.left.evaluate(item), self.right.evaluate(item)
        if left is None or right is None:
            raise ValidationError("The provided expression refers to an attribute that does not exist in the item")
        if type_of(left) != "N" or type_of(right) != "N":
            raise ValidationError("An operand in the update expression has an incorrect data type")
        return {"N": add_numbers(left["N"], right["N"], subtract=self.operator == "-")}


@dataclass(frozen=True)
class _Kept:
    value: AttributeValue


def project(item: Item, paths: list[Path]) -> Item:
    """The parts of ``item`` that ``paths`` name, nested as they are in the item.

    Elements of one list are merged by their index (``l[0].a, l[0].b`` is one element) and keep
    their order; a path that leads nowhere adds nothing.
    """
    tree: dict[PathElement, Any] = {}
    for path in paths:
        value = path.resolve(item)
        if value is None:
            continue
        node = tree
        for element in path.elements[:-1]:
            node = node.setdefault(element, {})
        node[path.elements[-1]] = _Kept(value)
    return {str(name): _rebuild(item[str(name)], branch) for name, branch in tree.items()}


def _rebuild(value: AttributeValue, branch: Any) -> AttributeValue:
    if isinstance(branch, _Kept):
        return branch.value
    if "L" in value:
        return {"L": [_rebuild(value["L"][index], branch[index]) for index in sorted(branch)]}
    return {"M": {name: _rebuild(value["M"][name], sub) for name, sub in branch.items()}}


def check_overlaps(paths: list[Path], kind: str) -> None:
    """Two paths where one is, or leads into, the other: refused, as DynamoDB refuses them."""
    for i, first in enumerate(paths):
        for second in paths[i + 1 :]:
            shorter = min(len(first.elements), len(second.elements))
            if first.elements[:shorter] == second.elements[:shorter]:
                raise ValidationError(
                    f"Invalid {kind}: Two document paths overlap with each other; must remove or rewrite one of "
                    f"these paths; path one: [{first}], path two: [{second}]"
                )
