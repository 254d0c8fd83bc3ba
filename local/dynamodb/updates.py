"""Update expressions: ``SET``, ``REMOVE``, ``ADD`` and ``DELETE`` clauses applied to an item in wire form."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from local.dynamodb.errors import ValidationError
from local.dynamodb.expressions import UPDATE_FUNCTIONS, Parser
from local.dynamodb.operands import Arithmetic, Constant, IfNotExists, ListAppend, Path, Placeholders, check_overlaps
from local.dynamodb.values import AttributeValue, Item, add_numbers, type_of

KIND = "UpdateExpression"
CLAUSES = ("SET", "REMOVE", "ADD", "DELETE")


@dataclass(frozen=True)
class Action:
    clause: str
    path: Path
    value: Any = None  # an operand node (SET) or a Constant (ADD, DELETE)


class UpdateParser(Parser):
    def update(self) -> list[Action]:
        actions: list[Action] = []
        seen: set[str] = set()
        while self.peek().kind != "end":
            token = self.take("name")
            clause = token.text.upper()
            if clause not in CLAUSES:
                raise self.error(token.text)
            if clause in seen:
                raise ValidationError(
                    f'Invalid {KIND}: The "{clause}" section can only be used once in an update expression;'
                )
            seen.add(clause)
            actions.append(self._action(clause))
            while self.peek().text == ",":
                self.position += 1
                actions.append(self._action(clause))
        check_overlaps([action.path for action in actions], KIND)
        return actions

    def _action(self, clause: str) -> Action:
        path = self.path()
        if clause == "SET":
            self.take("op", "=")
            return Action(clause, path, self._value())
        if clause == "REMOVE":
            return Action(clause, path)
        token = self.take("value")
        value = self.placeholders.value(token.text, KIND)
        if clause == "ADD" and type_of(value) not in ("N", "SS", "NS", "BS"):
            raise ValidationError(
                f"Invalid {KIND}: Incorrect operand type for operator or function; operator: ADD, "
                f"operand type: {type_of(value)}"
            )
        if clause == "DELETE" and type_of(value) not in ("SS", "NS", "BS"):
            raise ValidationError(
                f"Invalid {KIND}: Incorrect operand type for operator or function; operator: DELETE, "
                f"operand type: {type_of(value)}"
            )
        return Action(clause, path, Constant(value))

    def _value(self) -> Any:
        left = self._value_operand()
        token = self.peek()
        if token.kind == "punct" and token.text in "+-":
            self.position += 1
            return Arithmetic(left, token.text, self._value_operand())
        return left

    def _value_operand(self) -> Any:
        token = self.peek()
        if token.kind == "name" and self.peek(1).text == "(":
            if token.text not in UPDATE_FUNCTIONS:
                raise ValidationError(f"Invalid {KIND}: Invalid function name; function: {token.text}")
            self.position += 2
            if token.text == "if_not_exists":
                path = self.path()
                self.take("punct", ",")
                fallback = self._value_operand()
                self.take("punct", ")")
                return IfNotExists(path, fallback)
            left = self._value_operand()
            self.take("punct", ",")
            right = self._value_operand()
            self.take("punct", ")")
            return ListAppend(left, right)
        return self.operand()


def parse_update(text: str, placeholders: Placeholders) -> list[Action]:
    return UpdateParser(text, KIND, placeholders).update()


def check_key_untouched(actions: list[Action], key_names: tuple[str, ...]) -> None:
    for action in actions:
        if action.path.elements[0] in key_names:
            raise ValidationError(
                f"One or more parameter values were invalid: Cannot update attribute {action.path.elements[0]}. "
                "This attribute is part of the key"
            )


def apply_update(item: Item, actions: list[Action], key_names: set[str]) -> Item:
    """A new item: ``actions`` applied to a copy of ``item`` (values are read from the original)."""
    check_key_untouched(actions, tuple(key_names))
    values = [action.value.evaluate(item) if action.clause == "SET" else None for action in actions]
    updated = copy.deepcopy(item)
    for action, value in zip(actions, values, strict=True):
        if action.clause == "SET":
            _assign(updated, action.path, value)
        elif action.clause == "ADD":
            _add(updated, action.path, action.value.value)
        elif action.clause == "DELETE":
            _delete(updated, action.path, action.value.value)
    # Removing list elements shifts the later ones: remove from the highest index down.
    removals = [action for action in actions if action.clause == "REMOVE"]
    for action in sorted(removals, key=_removal_order, reverse=True):
        _remove(updated, action.path)
    return updated


def _removal_order(action: Action) -> int:
    last = action.path.elements[-1]
    return last if isinstance(last, int) else -1


def _parent(item: Item, path: Path) -> Any:
    """The container of the path's last element (a dict of attributes or a list), or a ValidationError."""
    if len(path.elements) == 1:
        return item
    parent = Path(path.elements[:-1]).resolve(item)
    wanted = "L" if isinstance(path.elements[-1], int) else "M"
    if parent is None or type_of(parent) != wanted:
        raise ValidationError("The document path provided in the update expression is invalid for update")
    return parent[wanted]


def _assign(item: Item, path: Path, value: AttributeValue | None) -> None:
    if value is None:
        raise ValidationError("The provided expression refers to an attribute that does not exist in the item")
    container, last = _parent(item, path), path.elements[-1]
    if isinstance(last, int):
        if last >= len(container):
            container.append(value)
        else:
            container[last] = value
    else:
        container[last] = value


def _remove(item: Item, path: Path) -> None:
    try:
        container = _parent(item, path)
    except ValidationError:
        return  # removing what is not there is no error
    last = path.elements[-1]
    if isinstance(last, int):
        if last < len(container):
            del container[last]
    else:
        container.pop(last, None)


def _add(item: Item, path: Path, value: AttributeValue) -> None:
    current = path.resolve(item)
    kind = type_of(value)
    if current is None:
        _assign(item, path, value)
    elif kind == "N" and type_of(current) == "N":
        _assign(item, path, {"N": add_numbers(current["N"], value["N"])})
    elif kind == type_of(current):
        _assign(item, path, {kind: list(dict.fromkeys([*current[kind], *value[kind]]))})
    else:
        raise ValidationError("An operand in the update expression has an incorrect data type")


def _delete(item: Item, path: Path, value: AttributeValue) -> None:
    current = path.resolve(item)
    if current is None:
        return
    kind = type_of(value)
    if type_of(current) != kind:
        raise ValidationError("An operand in the update expression has an incorrect data type")
    remaining = [member for member in current[kind] if member not in set(value[kind])]
    if remaining:
        _assign(item, path, {kind: remaining})
    else:
        _remove(item, path)
