"""Load and validate question sets in the format of eval/FORMAT.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TOP_KEYS = {"name", "items", "description"}
ITEM_KEYS = {"id", "question", "turns", "lang", "category", "expect"}
TURN_KEYS = {"question", "expect"}
EXPECT_KEYS = {"passages", "answer_contains", "abstain"}


class SetError(Exception):
    """A question set is invalid; the message names the file, the line and the item."""


@dataclass
class Expect:
    """What a scored turn must produce."""

    passages: list[list[str]] = field(default_factory=list)
    answer_contains: list[list[str]] = field(default_factory=list)
    abstain: bool = False


@dataclass
class TurnSpec:
    question: str
    expect: Expect | None  # None: asked for context only, not scored


@dataclass
class Item:
    id: str
    turns: list[TurnSpec]
    lang: str = ""
    category: str = ""
    line: int = 0


@dataclass
class QuestionSet:
    name: str
    items: list[Item]
    path: str = ""


def _groups(value: Any, where: str, key: str) -> list[list[str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise SetError(f"{where}: '{key}' must be a list of lists of alternatives")
    groups: list[list[str]] = []
    for i, group in enumerate(value, 1):
        alts = [group] if isinstance(group, str) else group
        if not isinstance(alts, list) or not alts:
            raise SetError(f"{where}: '{key}' group {i} has no alternatives")
        for alt in alts:
            if not isinstance(alt, (str, int, float)) or not str(alt).strip():
                raise SetError(f"{where}: '{key}' group {i} has an empty alternative")
        groups.append([str(a) for a in alts])
    return groups


def _expect(value: Any, where: str) -> Expect:
    if value is None:
        return Expect()
    if not isinstance(value, dict):
        raise SetError(f"{where}: 'expect' must be a mapping")
    unknown = set(value) - EXPECT_KEYS
    if unknown:
        raise SetError(f"{where}: unknown key(s) in expect: {sorted(unknown)} "
                       f"(allowed: {sorted(EXPECT_KEYS)})")
    abstain = value.get("abstain", False)
    if not isinstance(abstain, bool):
        raise SetError(f"{where}: 'abstain' must be true or false")
    return Expect(passages=_groups(value.get("passages"), where, "passages"),
                  answer_contains=_groups(value.get("answer_contains"), where, "answer_contains"),
                  abstain=abstain)


def _question(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SetError(f"{where}: missing or empty 'question'")
    return value


def load_set(path: Path) -> QuestionSet:
    """Return the validated set; raise SetError naming file, line and item on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SetError(f"{path}: cannot read ({exc})") from exc
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f":{mark.line + 1}" if mark else ""
        raise SetError(f"{path}{at}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise SetError(f"{path}:1: a question set needs a top-level 'items:' list")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise SetError(f"{path}:1: unknown top-level key(s) {sorted(unknown)}")
    lines: list[int] = []
    for key, value in node.value:  # type: ignore[union-attr]
        if key.value == "items":
            lines = [n.start_mark.line + 1 for n in value.value]
    items: list[Item] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(data["items"]):
        line = lines[i] if i < len(lines) else 0
        where = f"{path}:{line}"
        if not isinstance(raw, dict):
            raise SetError(f"{where}: item {i + 1} must be a mapping")
        item_id = raw.get("id")
        if not isinstance(item_id, (str, int)) or not str(item_id).strip():
            raise SetError(f"{where}: item {i + 1} has no 'id'")
        item_id = str(item_id)
        where = f"{path}:{line}: item '{item_id}'"
        if item_id in seen:
            raise SetError(f"{where}: duplicate id (first used on line {seen[item_id]})")
        seen[item_id] = line
        unknown = set(raw) - ITEM_KEYS
        if unknown:
            raise SetError(f"{where}: unknown key(s) {sorted(unknown)} (allowed: {sorted(ITEM_KEYS)})")
        if "turns" in raw:
            if "question" in raw:
                raise SetError(f"{where}: has both 'question' and 'turns'; use one")
            if not isinstance(raw["turns"], list) or not raw["turns"]:
                raise SetError(f"{where}: 'turns' must be a non-empty list")
            turns = []
            for j, turn in enumerate(raw["turns"], 1):
                tw = f"{where} turn {j}"
                if not isinstance(turn, dict):
                    raise SetError(f"{tw}: must be a mapping with 'question'")
                bad = set(turn) - TURN_KEYS
                if bad:
                    raise SetError(f"{tw}: unknown key(s) {sorted(bad)} (allowed: {sorted(TURN_KEYS)})")
                expect = _expect(turn["expect"], tw) if "expect" in turn else None
                turns.append(TurnSpec(_question(turn.get("question"), tw), expect))
            if raw.get("expect") is not None:
                raise SetError(f"{where}: put 'expect' on the turns of a conversation")
        else:
            turns = [TurnSpec(_question(raw.get("question"), where), _expect(raw.get("expect"), where))]
        items.append(Item(id=item_id, turns=turns, lang=str(raw.get("lang") or ""),
                          category=str(raw.get("category") or ""), line=line))
    return QuestionSet(name=str(data.get("name") or path.stem), items=items, path=str(path))
