"""An experiment or SLO file, whatever bytes it holds → plain data, or one SpecError.

The only module that imports PyYAML for reading. Every way a file can be
unreadable ends here as a SpecError naming the file and, where there is one,
the line and column; nothing else escapes (no traceback, no "internal error"):

- the file itself: missing, a directory, a device or pipe (reading one would
  block), a symlink loop, larger than MAX_FILE_BYTES, binary, not UTF-8;
- the YAML: syntax, more than one document, nesting deeper than MAX_DEPTH,
  more than MAX_VALUES values counting what aliases repeat (alias bombs), an
  alias of its own container (an endless structure), an anchor defined twice;
- the data: duplicate keys (YAML's "last one wins" would silently drop what
  the user wrote), keys that are not text (``on:`` is a boolean in YAML 1.1),
  tags beyond plain data (``!!python/...``, ``!!binary``, ``!!set``),
  integers beyond int64, and values a YAML constructor cannot convert
  (``!!int abc``).

Dates stay text: a date-like value is never a field of ours, and ``2024-13-45``
would otherwise fail inside the date constructor.

Parsing uses libyaml (fast, so a file at the size cap costs under a second);
when libyaml refuses the syntax, the pure-Python parser re-reads the file for
its clearer message (``expected ',' or ']', but got ':'``).
"""

from __future__ import annotations

import codecs
import errno
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    NodeEvent,
    ScalarEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode

from harness.errors import SpecError

# An experiment of 1000 steps (the ramp's cap) with a dozen faults is a few
# hundred KB; anything past 1 MiB is not an experiment, and libyaml reads 1 MiB
# in well under a second.
MAX_FILE_BYTES = 1 << 20
# An experiment nests 5 deep (faults → fault → levels → level → field).
MAX_DEPTH = 32
# Values after alias expansion: a 1000-step ramp with a dozen faults has ~40,000.
MAX_VALUES = 100_000
# Toxiproxy and the plan store integers as int64; anything larger is a typo.
MAX_INT = 2**63 - 1

_CORE = "tag:yaml.org,2002:"
# Neither is a value an experiment holds; as text they are at least readable.
_TEXT_NOT_RESOLVED = {_CORE + "timestamp", _CORE + "value"}
_REFUSED_TAGS = ("binary", "set", "omap", "pairs", "timestamp")


def read_spec_file(path: Path) -> Any:
    """The YAML data in ``path`` (None for an empty file); raises SpecError for anything else."""
    source = str(path)
    text = _read_text(path, source)
    try:
        _check_shape(text)
        return yaml.load(text, Loader=_Loader)  # _Loader is libyaml's SafeLoader, narrowed further
    except yaml.YAMLError as exc:
        raise SpecError(_yaml_problem(exc, text), source=source) from exc
    except (ValueError, TypeError, OverflowError, LookupError, RecursionError) as exc:
        # Belt and braces: every known way here is turned into a YAMLError above.
        raise SpecError(f"cannot be read as YAML: {type(exc).__name__}: {exc}", source=source) from exc


# -- the file ------------------------------------------------------------------------------


def _read_text(path: Path, source: str) -> str:
    try:
        info = path.stat()
    except OSError as exc:
        raise SpecError(f"cannot read the file: {_reason(exc)}", source=source) from exc
    if stat.S_ISDIR(info.st_mode):
        raise SpecError("is a directory, not a file", source=source)
    if not stat.S_ISREG(info.st_mode):
        raise SpecError("is not a regular file (a device, pipe or socket)", source=source)
    if info.st_size > MAX_FILE_BYTES:
        raise SpecError(_too_large(info.st_size), source=source)
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)  # the file may have grown since stat()
    except OSError as exc:
        raise SpecError(f"cannot read the file: {_reason(exc)}", source=source) from exc
    if len(data) > MAX_FILE_BYTES:
        raise SpecError(_too_large(len(data)), source=source)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise SpecError("is UTF-16 text; save it as UTF-8", source=source)
    nul = data.find(b"\0")
    if nul >= 0:
        raise SpecError(f"holds binary data (a NUL byte at {_where(data, nul)}), not YAML text", source=source)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at {_where(data, exc.start)}); save it as UTF-8",
            source=source,
        ) from exc
    return text.removeprefix("\ufeff")


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return f"{exc.strerror} (a symlink loop)"
    return exc.strerror or str(exc)


def _too_large(size: int) -> str:
    return (f"is {size / (1 << 20):.1f} MiB; an experiment or SLO file is at most "
            f"{MAX_FILE_BYTES >> 20} MiB (a 1000-step experiment is a few hundred KB)")


def _where(data: bytes | str, offset: int) -> str:
    newline = b"\n" if isinstance(data, bytes) else "\n"
    line = data.count(newline, 0, offset) + 1  # type: ignore[arg-type]
    column = offset - (data.rfind(newline, 0, offset) + 1) + 1  # type: ignore[arg-type]
    return f"line {line}, column {column}"


# -- the shape, from the event stream, before anything is built --------------------------


class _Refused(yaml.MarkedYAMLError):
    """A problem of ours (not a YAML syntax error), located at a mark."""

    def __init__(self, problem: str, mark: yaml.Mark | None) -> None:
        super().__init__(problem=problem, problem_mark=mark)


def _check_shape(text: str, loader: type[yaml.SafeLoader | yaml.CSafeLoader] = yaml.CSafeLoader) -> None:
    """Refuse depth, size and alias problems while streaming events, so nothing large is ever built."""
    depth = values = documents = 0
    sizes: dict[str, int] = {}  # anchor → values it stands for
    anchored_at: dict[str, int] = {}  # anchor → line (1-based)
    open_collections: list[tuple[str | None, int]] = []  # (anchor, values before it)
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise _Refused("a second YAML document ('---'); a file holds one experiment", event.start_mark)
        if isinstance(event, NodeEvent) and event.anchor is not None and not isinstance(event, AliasEvent):
            if event.anchor in anchored_at:
                raise _Refused(f"anchor &{event.anchor} is defined twice (first on line "
                               f"{anchored_at[event.anchor]})", event.start_mark)
            anchored_at[event.anchor] = event.start_mark.line + 1
        if isinstance(event, AliasEvent):
            if any(anchor == event.anchor for anchor, _ in open_collections):
                raise _Refused(f"alias *{event.anchor} is inside the node it names: an endless structure",
                               event.start_mark)
            if event.anchor not in sizes:
                raise _Refused(f"alias *{event.anchor} has no anchor &{event.anchor} before it", event.start_mark)
            values += sizes[event.anchor]
        elif isinstance(event, ScalarEvent):
            values += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, CollectionStartEvent):
            values += 1
            depth += 1
            if depth > MAX_DEPTH:
                raise _Refused(f"nested more than {MAX_DEPTH} levels deep (an experiment needs 5)", event.start_mark)
            open_collections.append((event.anchor, values - 1))
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
            anchor, before = open_collections.pop()
            if anchor is not None:
                sizes[anchor] = values - before
        if values > MAX_VALUES:
            raise _Refused(f"holds more than {MAX_VALUES:,} values (counting what aliases repeat); "
                           "an experiment needs far fewer", event.start_mark)


# -- building the data ---------------------------------------------------------------------


class _Loader(yaml.CSafeLoader):
    """libyaml's safe loader, narrowed to plain data with text keys, each key once."""

    yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag not in _TEXT_NOT_RESOLVED]
        for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever a constructor trips on, it is the value's fault
            # "!!int abc" (ValueError), "!!bool maybe" (KeyError), "!!float ''" (IndexError)...
            raise _Refused(f"cannot read {_shown(node)} as {_tag(node.tag)} "
                           f"({type(exc).__name__}: {exc})", node.start_mark) from exc

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_seen: dict[str, str] = {}
        for key_node, _ in node.value:
            if key_node.tag == _CORE + "merge":
                continue  # "<<: *defaults": keys written here override merged ones, as YAML intends
            key = self.construct_object(key_node) if isinstance(key_node, ScalarNode) else key_node
            if not isinstance(key, str):
                raise _Refused(_not_a_name(key_node, key), key_node.start_mark)
            if key in first_seen:
                raise _Refused(
                    f"duplicate key '{key}' (first at {first_seen[key]}): YAML would keep only the "
                    "last one and silently drop the other; keep one", key_node.start_mark,
                )
            mark = key_node.start_mark
            first_seen[key] = f"line {mark.line + 1}, column {mark.column + 1}"
        return super().construct_mapping(node, deep)

    def construct_undefined(self, node: Node) -> Any:
        raise _Refused(f"the tag {_tag(node.tag)} is not allowed: these files hold plain data "
                       "(text, numbers, true/false, null, lists, mappings)", node.start_mark)


def _construct_int(loader: _Loader, node: ScalarNode) -> int:
    digits = node.value.replace("_", "").lstrip("+-")
    # int() of a long decimal string is slow (and refused past 4300 digits): look first.
    value = None if len(digits) > 40 else SafeConstructor.construct_yaml_int(loader, node)
    if value is None or abs(value) > MAX_INT:
        raise _Refused(f"the number {_shown(node)} is too large (at most {MAX_INT})", node.start_mark)
    return value


_Loader.add_constructor(_CORE + "int", _construct_int)
for _name in (None, *_REFUSED_TAGS):
    _Loader.add_constructor(_name and _CORE + _name, _Loader.construct_undefined)


def _not_a_name(node: Node, key: Any) -> str:
    if not isinstance(node, ScalarNode):
        return "a key is a list or mapping; every key here is a name"
    if key is None:
        return "a key is empty (null); every key here is a name"
    if isinstance(key, bool):
        kind = "true/false (YAML 1.1 reads yes/no/on/off so)"
    else:
        kind = "a number" if isinstance(key, int | float) else f"a {type(key).__name__}"
    return f"the key {_shown(node)} is read as {kind}; every key here is a name (quote it if you mean text)"


def _shown(node: Node) -> str:
    if not isinstance(node, ScalarNode):
        return f"a {'mapping' if isinstance(node, MappingNode) else 'list'}"
    value = node.value if len(node.value) <= 24 else node.value[:20] + "…"
    return repr(value)


def _tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag


# -- messages ------------------------------------------------------------------------------


def _yaml_problem(exc: yaml.YAMLError, text: str) -> str:
    if isinstance(exc, _Refused | ConstructorError):
        return _marked(exc)
    # libyaml's syntax messages are terse ("did not find expected key"), and it
    # stops deep flow nesting at its own limit before our depth check sees it;
    # the pure-Python parser says what it found. Only the error path pays it.
    try:
        _check_shape(text, yaml.SafeLoader)
    except yaml.YAMLError as python_exc:
        if isinstance(python_exc, _Refused):
            return _marked(python_exc)
        exc = python_exc
    if isinstance(exc, yaml.reader.ReaderError):
        # PyYAML gives the code point as an int (a str from a byte stream)
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        return (f"not valid YAML: {_where(text, exc.position)}: character U+{code:04X} "
                "cannot appear in YAML text (a control character?)")
    return "not valid YAML: " + _marked(exc)


def _marked(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc)
    context = getattr(exc, "context", None)
    if context and problem.startswith("but "):
        problem = f"{context}, {problem}"
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark else problem
