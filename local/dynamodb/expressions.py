"""DynamoDB's expression language: condition, filter, key-condition, projection and update expressions.

Expressions are parsed once per request into small node trees (``local.dynamodb.operands``) that
evaluate against items in wire form.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path as FilePath
from typing import Any

from local.dynamodb.errors import ValidationError
from local.dynamodb.operands import (
    Constant,
    Path,
    PathElement,
    Placeholders,
    Size,
    check_overlaps,
)
from local.dynamodb.values import AttributeValue, Item, equal, ordered, type_of

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
