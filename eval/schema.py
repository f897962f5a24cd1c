"""The shape of a question set (eval/FORMAT.md) as pydantic models.

Each field type says what it accepts in words a set's author can act on; eval/sets.py turns
the errors into `file:line: item 'id': field: problem`."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

# The words YAML 1.1 read as booleans; `abstain` still accepts them (eval/sets.py reads
# only true/false as booleans, so an alternative `No` stays the word).
_YAML11_BOOLS = {"yes": True, "y": True, "on": True, "no": False, "n": False, "off": False}


def _is_number(value: Any) -> bool:
    """True for numbers and dates: YAML reads `2015` and `2022-01-04` so; both mean their text."""
    return isinstance(value, (int, float, datetime.date)) and not isinstance(value, bool)


def _alternative(value: Any) -> str:
    if not (isinstance(value, str) or _is_number(value)):
        raise ValueError(f"must be text, not {_kind(value)}")
    if not str(value).strip():
        raise ValueError("empty alternative")
    return str(value)


def _group(value: Any) -> Any:
    if isinstance(value, str) or _is_number(value):
        return [value]  # a lone string is a group of one alternative
    if not isinstance(value, list):
        raise ValueError(f"must be a list of alternatives, not {_kind(value)}")
    return value


def _non_empty(value: list[str]) -> list[str]:
    if not value:
        raise ValueError("has no alternatives")
    return value


def _groups(value: Any) -> Any:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"must be a list of lists of alternatives, not {_kind(value)}")
    return value


def _abstain(value: Any) -> bool:
    if isinstance(value, str) and value.lower() in _YAML11_BOOLS:
        return _YAML11_BOOLS[value.lower()]  # sets written before still say `abstain: yes`
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, not {value!r}")
    return value


def _question(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"must be text, not {_kind(value)}")
    if not value.strip():
        raise ValueError("is empty")
    return value


def _item_id(value: Any) -> str:
    if isinstance(value, (int, datetime.date)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        raise ValueError(f"must be text or a whole number, not the decimal {value!r}; "
                         f"quote it (id: '{value}')")
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must be non-empty text, not {_kind(value)}")
    return value


def _label(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str) or _is_number(value):
        return str(value)
    raise ValueError(f"must be one piece of text, not {_kind(value)}")


def _lang(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"must be one language code such as en or zh, not {_kind(value)} "
                         "(an item in two languages is two items)")
    return value


def _kind(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", bool: "true/false", type(None): "nothing"}
    return names.get(type(value), f"{type(value).__name__} {value!r}")


Alternative = Annotated[str, BeforeValidator(_alternative)]
Group = Annotated[list[Alternative], BeforeValidator(_group), AfterValidator(_non_empty)]
Groups = Annotated[list[Group], BeforeValidator(_groups)]
Question = Annotated[str | None, BeforeValidator(_question)]
Label = Annotated[str, BeforeValidator(_label)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExpectModel(_Strict):
    passages: Groups = []
    answer_contains: Groups = []
    abstain: Annotated[bool, BeforeValidator(_abstain)] = False


def _expect_mapping(value: Any) -> Any:
    if value is not None and not isinstance(value, dict):
        raise ValueError(f"must be a mapping, not {_kind(value)}")
    return value


ExpectField = Annotated[ExpectModel | None, BeforeValidator(_expect_mapping)]


class TurnModel(_Strict):
    question: Question = None
    expect: ExpectField = None

    @model_validator(mode="after")
    def _has_question(self) -> TurnModel:
        if self.question is None:
            raise ValueError("missing or empty 'question'")
        return self


def _turn_mapping(value: Any) -> Any:
    if not isinstance(value, dict):
        raise ValueError(f"must be a mapping with 'question', not {_kind(value)}")
    return value


class ItemModel(_Strict):
    id: Annotated[str, BeforeValidator(_item_id)]
    question: Question = None
    turns: list[Annotated[TurnModel, BeforeValidator(_turn_mapping)]] | None = None
    lang: Annotated[str, BeforeValidator(_lang)] = ""
    category: Label = ""
    expect: ExpectField = None

    @model_validator(mode="after")
    def _one_form(self) -> ItemModel:
        if self.turns is not None:
            if self.question is not None:
                raise ValueError("has both 'question' and 'turns'; use one")
            if not self.turns:
                raise ValueError("'turns' must be a non-empty list")
            if self.expect is not None:
                raise ValueError("put 'expect' on the turns of a conversation")
        elif self.question is None:
            raise ValueError("missing or empty 'question'")
        return self


def _item_mapping(value: Any) -> Any:
    if not isinstance(value, dict):
        raise ValueError(f"must be a mapping, not {_kind(value)}")
    return value


class SetModel(_Strict):
    name: Label = ""
    description: Any = None
    items: list[Annotated[ItemModel, BeforeValidator(_item_mapping)]] = Field(min_length=1)
