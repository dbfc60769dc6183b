"""YAML configuration with source lines: load a file, validate it with pydantic, fail in one clear line.

Errors read ``error: books/x.yaml line 12: positions[1].strike: Input should be greater than 0`` so a user
can go straight to the line. The loader composes the YAML node tree once to record the line of every
mapping key and sequence item, then constructs plain Python data from the same text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)
LineMap = dict[tuple[Any, ...], int]


class ConfigError(ValueError):
    """A configuration file is missing or invalid; the message is one line naming file, line and field."""


def _record_lines(node: yaml.Node, path: tuple[Any, ...], lines: LineMap) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            lines[path + (key,)] = key_node.start_mark.line + 1
            _record_lines(value_node, path + (key,), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _record_lines(item, path + (i,), lines)


def read_yaml(path: str | Path) -> tuple[Any, LineMap]:
    """Parse ``path``; return the data and a map from key path (e.g. ``("positions", 1, "strike")``) to line.

    Raises
    ------
    ConfigError
        When the file is missing, unreadable or not valid YAML (with the line of the syntax error).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"error: {p}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"error: {p}: cannot read ({exc.strerror})") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"error: {p}{where}: invalid YAML: {exc.problem or exc.context}") from None
    lines: LineMap = {}
    if node is not None:
        _record_lines(node, (), lines)
    return data, lines


def _data_path(loc: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    """The part of a pydantic error location that names data in the file.

    Union tags that pydantic inserts (``('positions', 1, 'option', 'strike')``: ``'option'`` is the value of
    the ``instrument`` discriminator) are dropped; a missing or unknown key is kept as the last element.
    """
    out: list[Any] = []
    cur = data
    for part in loc:
        if isinstance(cur, dict):
            if part in cur:
                out.append(part)
                cur = cur[part]
            elif part == cur.get("instrument") or (isinstance(part, str) and "[" in part):
                continue
            else:
                out.append(part)
                break
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            out.append(part)
            cur = cur[part]
        else:
            break
    return tuple(out)


def _dotted(path: tuple[Any, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _line_for(path: tuple[Any, ...], lines: LineMap) -> int | None:
    for cut in range(len(path), -1, -1):
        if path[:cut] in lines:
            return lines[path[:cut]]
    return None


def _message(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return "unknown field; check the spelling (see the documented fields of this section)"
    if kind == "missing":
        return "required field is missing"
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        return f"{ctx.get('tag')!r} is not one of {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return "required field is missing"
    msg = str(err.get("msg", "invalid value"))
    return msg.removeprefix("Value error, ")


def validate_file(model: type[Model], path: str | Path, *, what: str = "file") -> Model:
    """Read ``path`` and validate it as ``model``; one-line :class:`ConfigError` on any problem.

    Parameters
    ----------
    model : pydantic model class
    path : file to read
    what : noun for messages, e.g. ``"portfolio"`` or ``"venue"``

    Returns
    -------
    The validated model instance.
    """
    data, lines = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"error: {path}: a {what} file must be a YAML mapping (key: value lines)")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        loc = _data_path(tuple(first.get("loc", ())), data)
        if first.get("type") in ("union_tag_invalid", "union_tag_not_found"):
            loc = loc + (str(first.get("ctx", {}).get("discriminator", "")).strip("'"),)
        line = _line_for(loc, lines)
        where = f" line {line}" if line is not None else ""
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(f"error: {path}{where}: {_dotted(loc)}: {_message(first)}{more}") from None
