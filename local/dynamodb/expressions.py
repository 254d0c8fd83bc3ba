"""DynamoDB's expression language: condition, filter, key-condition, projection and update expressions.

Expressions are parsed once per request into small node trees that evaluate against items in wire
form. ``Placeholders`` resolves ``#name`` and ``:value`` and remembers which were used, so a request
naming one it never uses is refused as DynamoDB refuses it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path as FilePath
from typing import Any

from local.dynamodb.errors import ValidationError
from local.dynamodb.values import AttributeValue, Item, add_numbers, binary, equal, ordered, type_of

TOKEN = re.compile(
    r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<hash>#[A-Za-z0-9_]+)|(?P<value>:[A-Za-z0-9_]+)"
    r"|(?P<index>\[\s*\d+\s*\])|(?P<op><>|<=|>=|[=<>])|(?P<punct>[(),.+\-]))"
)
FUNCTIONS = frozenset({"attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains", "size"})
UPDATE_FUNCTIONS = frozenset({"if_not_exists", "list_append"})
MAX_EXPRESSION_CHARS = 4096
MAX_NESTING = 64


@cache
def reserved_words() -> frozenset[str]:
    text = (FilePath(__file__).parent / "reserved_words.txt").read_text()
    return frozenset(word.strip().upper() for word in text.split() if word.strip())


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


# ------------------------------------------------------------------------------------ conditions
Condition = Callable[[Item], bool]


def _compare(operator: str, left: AttributeValue | None, right: AttributeValue | None) -> bool:
    if operator == "=":
        return equal(left, right)
    if operator == "<>":
        return not equal(left, right)
    pair = ordered(left, right)
    if pair is None:
        return False
    a, b = pair
    if operator == "<":
        return bool(a < b)
    if operator == "<=":
        return bool(a <= b)
    if operator == ">":
        return bool(a > b)
    return bool(a >= b)


def _begins_with(value: AttributeValue | None, prefix: AttributeValue | None) -> bool:
    if value is None or prefix is None or type_of(value) != type_of(prefix) or type_of(value) not in ("S", "B"):
        return False
    pair = ordered(value, prefix)
    assert pair is not None
    return bool(pair[0][: len(pair[1])] == pair[1])  # type: ignore[index]


def _contains(value: AttributeValue | None, operand: AttributeValue | None) -> bool:
    if value is None or operand is None:
        return False
    kind = type_of(value)
    if kind == "S" and type_of(operand) == "S":
        return str(operand["S"]) in str(value["S"])
    if kind == "B" and type_of(operand) == "B":
        pair = ordered(value, operand)
        return pair is not None and pair[1] in pair[0]  # type: ignore[operator]
    if kind in ("SS", "NS", "BS") and type_of(operand) == kind[0]:
        return any(equal({kind[0]: member}, operand) for member in value[kind])
    if kind == "L":
        return any(equal(element, operand) for element in value["L"])
    return False


# ------------------------------------------------------------------------------------ parser
@dataclass
class Token:
    kind: str
    text: str


class Parser:
    """A recursive-descent parser over one expression; ``kind`` names it in error messages."""

    def __init__(self, text: str, kind: str, placeholders: Placeholders) -> None:
        if not isinstance(text, str) or not text.strip():
            raise ValidationError(f"Invalid {kind}: The expression can not be empty;")
        if len(text) > MAX_EXPRESSION_CHARS:
            raise ValidationError(f"Invalid {kind}: Expression size has exceeded the maximum allowed size")
        self.text, self.kind, self.placeholders = text, kind, placeholders
        self.tokens = self._tokenise(text)
        self.position = 0
        self.depth = 0

    def _tokenise(self, text: str) -> list[Token]:
        tokens, offset = [], 0
        while offset < len(text):
            if text[offset:].strip() == "":
                break
            match = TOKEN.match(text, offset)
            if not match or match.end() == offset:
                bad = text[offset:].strip()[:1]
                raise self.error(bad)
            kind = match.lastgroup or ""
            tokens.append(Token(kind, match.group(kind)))
            offset = match.end()
        tokens.append(Token("end", "<EOF>"))
        return tokens

    def error(self, near: str) -> ValidationError:
        return ValidationError(f'Invalid {self.kind}: Syntax error; token: "{near}", near: "{self.text[:60]}"')

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.position + offset, len(self.tokens) - 1)]

    def take(self, kind: str | None = None, text: str | None = None) -> Token:
        token = self.peek()
        if (kind and token.kind != kind) or (text and token.text.upper() != text.upper()):
            raise self.error(token.text)
        self.position += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token.kind == "name" and token.text.upper() == word:
            self.position += 1
            return True
        return False

    def done(self) -> None:
        if self.peek().kind != "end":
            raise self.error(self.peek().text)

    # ---------------------------------------------------------------- paths and operands
    def path(self) -> Path:
        elements: list[PathElement] = [self._path_name()]
        while True:
            token = self.peek()
            if token.kind == "index":
                self.position += 1
                elements.append(int(token.text.strip("[] ")))
            elif token.kind == "punct" and token.text == ".":
                self.position += 1
                elements.append(self._path_name())
            else:
                return Path(tuple(elements))

    def _path_name(self) -> str:
        token = self.take()
        if token.kind == "hash":
            return self.placeholders.name(token.text, self.kind)
        if token.kind == "name":
            if token.text.upper() in reserved_words():
                raise ValidationError(
                    f"Invalid {self.kind}: Attribute name is a reserved keyword; reserved keyword: {token.text}"
                )
            return token.text
        raise self.error(token.text)

    def operand(self) -> Any:
        token = self.peek()
        if token.kind == "value":
            self.position += 1
            return Constant(self.placeholders.value(token.text, self.kind))
        if token.kind == "name" and self.peek(1).text == "(":
            name = token.text
            if name == "size":
                self.position += 2
                path = self.path()
                self.take("punct", ")")
                return Size(path)
            raise ValidationError(
                f"Invalid {self.kind}: The function is not allowed to be used this way in an expression; "
                f"function: {name}"
            )
        return self.path()

    # ---------------------------------------------------------------- conditions
    def condition(self) -> Condition:
        left = self._conjunction()
        while self.keyword("OR"):
            right = self._conjunction()
            left = (lambda a, b: lambda item: a(item) or b(item))(left, right)
        return left

    def _conjunction(self) -> Condition:
        left = self._negation()
        while self.keyword("AND"):
            right = self._negation()
            left = (lambda a, b: lambda item: a(item) and b(item))(left, right)
        return left

    def _negation(self) -> Condition:
        if self.keyword("NOT"):
            inner = self._nested(self._negation)
            return lambda item: not inner(item)
        return self._predicate()

    def _nested(self, parse: Callable[[], Condition]) -> Condition:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ValidationError(f"Invalid {self.kind}: The expression is nested more than {MAX_NESTING} levels deep")
        try:
            return parse()
        finally:
            self.depth -= 1

    def _predicate(self) -> Condition:
        token = self.peek()
        if token.kind == "punct" and token.text == "(":
            self.position += 1
            inner = self._nested(self.condition)
            self.take("punct", ")")
            return inner
        if token.kind == "name" and self.peek(1).text == "(" and token.text in FUNCTIONS - {"size"}:
            return self._function()
        if token.kind == "name" and self.peek(1).text == "(" and token.text not in FUNCTIONS:
            raise ValidationError(f"Invalid {self.kind}: Invalid function name; function: {token.text}")
        left = self.operand()
        if self.keyword("BETWEEN"):
            low = self.operand()
            self.take("name", "AND")
            high = self.operand()
            self._orderable(low, "BETWEEN")
            self._orderable(high, "BETWEEN")
            if isinstance(low, Constant) and isinstance(high, Constant) and _compare(">", low.value, high.value):
                raise ValidationError(
                    f"Invalid {self.kind}: The BETWEEN operator requires upper bound to be greater than or equal "
                    "to lower bound"
                )
            return lambda item: (
                _compare(">=", left.evaluate(item), low.evaluate(item))
                and _compare("<=", left.evaluate(item), high.evaluate(item))
            )
        if self.keyword("IN"):
            self.take("punct", "(")
            options = [self.operand()]
            while self.peek().text == ",":
                self.position += 1
                options.append(self.operand())
            self.take("punct", ")")
            if len(options) > 100:
                raise ValidationError(f"Invalid {self.kind}: Too many operands for IN; the limit is 100")
            return lambda item: any(equal(left.evaluate(item), option.evaluate(item)) for option in options)
        operator = self.take("op").text
        right = self.operand()
        if operator not in ("=", "<>"):
            self._orderable(left, operator)
            self._orderable(right, operator)
        return lambda item: _compare(operator, left.evaluate(item), right.evaluate(item))

    def _orderable(self, operand: Any, operator: str) -> None:
        if isinstance(operand, Constant) and type_of(operand.value) not in ("S", "N", "B"):
            raise ValidationError(
                f"Invalid {self.kind}: Incorrect operand type for operator or function; operator or function: "
                f"{operator}, operand type: {type_of(operand.value)}"
            )

    def _function(self) -> Condition:
        name = self.take("name").text
        self.take("punct", "(")
        path = self.path()
        argument = None
        if name in ("attribute_type", "begins_with", "contains"):
            self.take("punct", ",")
            argument = self.operand()
        self.take("punct", ")")
        if name == "attribute_exists":
            return lambda item: path.resolve(item) is not None
        if name == "attribute_not_exists":
            return lambda item: path.resolve(item) is None
        if name == "attribute_type":
            if not isinstance(argument, Constant) or type_of(argument.value) != "S":
                raise ValidationError(f"Invalid {self.kind}: attribute_type takes a string value placeholder")
            wanted = argument.value["S"]
            return lambda item: (found := path.resolve(item)) is not None and type_of(found) == wanted
        if name == "begins_with":
            return lambda item: _begins_with(path.resolve(item), argument.evaluate(item))
        return lambda item: _contains(path.resolve(item), argument.evaluate(item))


def parse_condition(text: str, kind: str, placeholders: Placeholders) -> Condition:
    parser = Parser(text, kind, placeholders)
    condition = parser.condition()
    parser.done()
    return condition


def parse_projection(text: str, placeholders: Placeholders) -> list[Path]:
    parser = Parser(text, "ProjectionExpression", placeholders)
    paths = [parser.path()]
    while parser.peek().text == ",":
        parser.position += 1
        paths.append(parser.path())
    parser.done()
    check_overlaps(paths, "ProjectionExpression")
    return paths


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
