"""The YAML every project file is read with: a SafeLoader that is stricter, and can say how a value was written.

Errors name the file, the line and the column, and never show the line itself: it may hold a secret.
"""

from __future__ import annotations

from collections.abc import Hashable
from functools import cache
from typing import Any

import yaml

from terrane.engine.errors import SpecError
from terrane.stacks.spec.problems import Loc, Written

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key given twice instead of keeping the last one, and leaves dates as text.

    YAML 1.1 turns a date-like scalar into a date, and an impossible one
    (2027-13-01) into an error that names no field. Kept as text, it is parsed
    by the field that wants a date, whose error names the field; any other
    field keeps it as the string it looks like.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                continue  # SafeLoader refuses it below, with its line
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}'", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def written_as(text: str) -> Written:
    """How ``text`` (a YAML file that loads) wrote the scalar at a path: "1.30", which loads as 1.3.

    The text is composed again (into nodes, unconstructed) only when a message
    first asks, once, and each lookup walks its path alone: an alias is followed
    as a node, never expanded.
    """

    @cache
    def root() -> yaml.Node | None:
        try:
            return yaml.compose(text, Loader=_StrictLoader)
        except (yaml.YAMLError, RecursionError):
            return None

    @cache
    def keys(node: yaml.MappingNode) -> dict[str, yaml.Node]:
        return {key.value: value for key, value in reversed(node.value) if isinstance(key, yaml.ScalarNode)}

    def scalar(loc: Loc) -> str | None:
        node = root()
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                node = keys(node).get(str(part))
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                node = node.value[part]
            else:
                return None
        if isinstance(node, yaml.ScalarNode) and node.style is None:  # unquoted: YAML chose its type
            return str(node.value)
        return None

    return scalar


def parse_yaml(text: str, relative: str) -> dict[str, Any]:
    """The mapping that ``text`` (the content of ``relative``) holds, read strictly."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader, stricter
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        # Only the parser's own words: its snippet of the line could hold a secret.
        raise SpecError([f"{relative}: {where}invalid YAML: {exc.problem}"]) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise SpecError(
            [f"{relative}: line {line}: invalid YAML: control character #x{exc.character:02x} is not allowed"]
        ) from None
    except yaml.YAMLError:
        raise SpecError([f"{relative}: invalid YAML"]) from None
    except RecursionError:
        raise SpecError([f"{relative}: invalid YAML: nested too deeply"]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SpecError([f"{relative}: must be a YAML mapping"])
    return data
