"""Pydantic's errors as the spec's problem lines: ``field.path: message``, with the nearest valid name.

Unknown names are the commonest mistake in a hand-written file, so each gets
the name it was probably meant to be (``ramp.step: unknown field; did you mean
'step_s'?``), or, when nothing is close, the names that are valid there.
"""

from __future__ import annotations

import re
import types
from collections.abc import Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from harness.suggest import did_you_mean
from toxics.catalogue import CATALOGUE
from toxics.model import ToxicModel

Loc = Sequence[str | int]


def format_validation_errors(exc: ValidationError, model: type[BaseModel] | None = None,
                             data: Any = None) -> list[str]:
    """One ``path: message`` line per error, in file order; ``model``/``data`` let unknown fields get hints."""
    problems = []
    for error in exc.errors():
        loc = [part for part in error["loc"] if not _is_internal(part)]
        path = ".".join(str(part) for part in loc)
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field" + _field_hint(model, loc, data)
        else:
            message += _choice_hint(error)
        problems.append(f"{path}: {message}" if path else message)
    return problems


def _is_internal(part: object) -> bool:
    # pydantic puts validator names and "[key]" (a dict key's own error) into loc
    return isinstance(part, str) and (part.startswith("function-") or part == "[key]")


def _choice_hint(error: Any) -> str:
    """For a value that must be one of a few names (link, stream, tier, toxic type)."""
    value, ctx = error.get("input"), error.get("ctx") or {}
    if not isinstance(value, str):
        return ""
    if error["type"] in ("enum", "literal_error"):
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
    elif error["type"] == "unknown_toxic_type":
        choices = str(ctx.get("known", "")).split(", ")
    else:
        return ""
    hint = did_you_mean(value, choices)
    return f"; {hint}" if hint else ""


def _field_hint(model: type[BaseModel] | None, loc: Loc, data: Any) -> str:
    names = fields_at(model, loc[:-1], data) if model is not None and loc else []
    if not names:
        return ""
    return "; " + (did_you_mean(str(loc[-1]), names) or f"known: {', '.join(names)}")


def fields_at(model: type[BaseModel], loc: Loc, data: Any) -> list[str]:
    """The field names valid at ``loc`` in ``model`` (walked along ``data``); [] if not a model there.

    A level's model depends on its fault's ``type``, read from the data.
    """
    annotation: Any = model
    fault: Any = None
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return []
            fault = data
            annotation, data = field.annotation, _item(data, part)
            continue
        args = get_args(annotation)
        if get_origin(annotation) in (list, tuple) and args:
            annotation = args[0]
        elif get_origin(annotation) is dict and len(args) == 2:
            annotation = args[1]
        else:
            return []
        data = _item(data, part)
    annotation = _unwrap(annotation)
    if annotation is ToxicModel:
        type_ = fault.get("type") if isinstance(fault, dict) else None
        annotation = CATALOGUE.get(type_) if isinstance(type_, str) else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """``Annotated[X, ...]`` → X; ``X | None`` → X."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _item(data: Any, part: str | int) -> Any:
    if isinstance(data, dict):
        return data.get(part)
    if isinstance(data, list | tuple) and isinstance(part, int) and 0 <= part < len(data):
        return data[part]
    return None
