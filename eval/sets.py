"""Load and validate question sets in the format of eval/FORMAT.md.

The YAML is composed into nodes first, so every problem can name its line; the expanded size
of the node graph is checked before anything is built (a few hundred bytes of nested aliases
can stand for billions of nodes); then the pydantic models of eval/schema.py check every
field's type. The result is plain dataclasses."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from eval.schema import ExpectModel, SetModel

MAX_BYTES = 5_000_000
# Nodes after expanding every alias. dev.yaml has ~2,000; a "billion laughs" has 10**9.
MAX_NODES = 200_000


# YAML 1.1 reads yes/no/on/off as booleans: an alternative `[No]` became False. Here only
# true/false are booleans; the other words stay text (and `abstain` accepts them).
_BOOL = "tag:yaml.org,2002:bool"


class _Loader(yaml.SafeLoader):
    """The safe loader with YAML 1.2 booleans."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))


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
    sha256: str = ""  # of the file's bytes: a report says exactly which questions it scored


# -- loading ---------------------------------------------------------------------------------
def load_set(path: Path) -> QuestionSet:
    """Return the validated set; raise SetError naming file, line and item on any problem."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SetError(f"{path}: cannot read ({exc})") from exc
    if len(raw) > MAX_BYTES:
        raise SetError(f"{path}: {len(raw):,} bytes; a question set is at most {MAX_BYTES:,}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SetError(f"{path}: not UTF-8 text ({exc})") from exc
    node, data = _parse(path, text)
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise SetError(f"{path}:1: a question set needs a top-level 'items:' list")
    if not data["items"]:
        raise SetError(f"{path}:1: 'items' is empty: a set with no questions measures nothing")
    try:
        model = SetModel.model_validate(data)
    except ValidationError as exc:
        raise SetError("\n".join(_describe(path, node, data, e) for e in exc.errors())) from None
    item_nodes = _child(node, "items")
    lines = [n.start_mark.line + 1 for n in item_nodes.value] if item_nodes is not None else []
    items: list[Item] = []
    seen: dict[str, int] = {}
    for i, m in enumerate(model.items):
        line = lines[i] if i < len(lines) else 0
        if m.id in seen:
            raise SetError(f"{path}:{line}: item '{m.id}': duplicate id "
                           f"(first used on line {seen[m.id]})")
        seen[m.id] = line
        if m.turns is None:
            turns = [TurnSpec(str(m.question), _expect(m.expect))]
        else:  # only a turn that says what it expects is scored
            turns = [TurnSpec(str(t.question),
                              _expect(t.expect) if "expect" in t.model_fields_set else None)
                     for t in m.turns]
        items.append(Item(id=m.id, turns=turns, lang=m.lang, category=m.category, line=line))
    if not any(t.expect is not None for item in items for t in item.turns):
        raise SetError(f"{path}:1: no turn is scored: give at least one turn an 'expect'")
    return QuestionSet(name=model.name or path.stem, items=items, path=str(path),
                       sha256=hashlib.sha256(raw).hexdigest())


def _expect(m: ExpectModel | None) -> Expect:
    if m is None:
        return Expect()
    return Expect(passages=m.passages, answer_contains=m.answer_contains, abstain=m.abstain)


def _parse(path: Path, text: str) -> tuple[yaml.Node | None, Any]:
    """Return the YAML's node graph and the data built from it, refusing alias bombs."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            try:
                size = _expanded_size(node, {}, set())
            except SetError as exc:
                raise SetError(f"{path}: {exc}") from None
            if size > MAX_NODES:
                raise SetError(f"{path}: its aliases expand to more than {MAX_NODES:,} YAML "
                               "nodes; write the questions out without '*' aliases")
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f":{mark.line + 1}" if mark else ""
        raise SetError(f"{path}{at}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    except RecursionError:
        raise SetError(f"{path}: nested too deeply to be a question set") from None
    finally:
        loader.dispose()
    return node, data


def _expanded_size(node: yaml.Node, memo: dict[int, int], open_: set[int]) -> int:
    """Return the node count once every alias is expanded (shared nodes counted each time)."""
    key = id(node)
    if key in memo:
        return memo[key]
    if key in open_:  # an alias inside its own anchor: infinite once expanded
        raise SetError(f"line {node.start_mark.line + 1}: an alias refers to its own anchor")
    open_.add(key)
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(n, memo, open_) for n in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(_expanded_size(k, memo, open_) + _expanded_size(v, memo, open_)
                    for k, v in node.value)
    open_.discard(key)
    memo[key] = min(size, MAX_NODES + 1)
    return memo[key]


def _child(node: yaml.Node | None, key: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(key, str):
        return next((v for k, v in node.value if k.value == key), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
        return node.value[key]
    return None


def _describe(path: Path, root: yaml.Node | None, data: Any, error: Any) -> str:
    """Return one pydantic error as `file:line: item 'id' turn n: field: problem`."""
    loc = list(error["loc"])
    node, line = root, 1
    for key in loc:
        child = _child(node, key)
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    where = f"{path}:{line}"
    if loc[:1] == ["items"] and len(loc) > 1 and isinstance(loc[1], int):
        raw = data["items"][loc[1]]
        item_id = raw.get("id") if isinstance(raw, dict) else None
        named = isinstance(item_id, (str, int)) and not isinstance(item_id, bool)
        label = f"'{item_id}'" if named else str(loc[1] + 1)
        where += f": item {label}"
        loc = loc[2:]
        if loc[:1] == ["turns"] and len(loc) > 1 and isinstance(loc[1], int):
            where += f" turn {loc[1] + 1}"
            loc = loc[2:]
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown key '{loc[-1]}' (see eval/FORMAT.md for the keys a set may use)"
    if error["type"] == "missing":
        return f"{where}: missing '{loc[-1]}'"
    names = ".".join(str(k) for k in loc if isinstance(k, str))
    ints = [k for k in loc if isinstance(k, int)]
    numbers = [f"{word} {k + 1}" for word, k in zip(("group", "alternative"), ints, strict=False)]
    fields = " ".join([f"'{names}'"] * bool(names) + numbers)
    ctx = error.get("ctx") or {}
    message = str(ctx["error"]) if "error" in ctx else error["msg"]
    return f"{where}: {fields + ': ' if fields else ''}{message}"
