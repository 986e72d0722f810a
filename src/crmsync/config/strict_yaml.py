"""YAML that may have been written by someone else, read strictly and within bounds.

PyYAML's safe loader is safe from code execution, not from mistakes or size attacks:

- a key given twice in one mapping (two `name:`) silently keeps the last: here it is an
  error naming both lines, as YAML itself says keys are unique;
- aliases share one tree in memory, but everything that walks the result afterwards (the
  `${VAR}` substitution, validation) copies each use: nine nested anchors of nine aliases
  ("billion laughs") grew past a gigabyte. The document's size with every alias expanded is
  counted on the node graph first, in time proportional to its distinct nodes, and a file
  past MAX_VALUES, or an alias that contains itself, is refused;
- nesting deeper than MAX_DEPTH is refused, and PyYAML's own recursion running out (100,000
  `[`) is reported as such rather than crashing.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, SequenceNode

MAX_VALUES = 100_000  # values in the document with every alias expanded
MAX_DEPTH = 64  # a pipeline file nests about 8 levels deep
MERGE_TAG = "tag:yaml.org,2002:merge"


class YamlLimitError(yaml.YAMLError):
    """The document is refused for its size or depth, not its syntax."""

    def __init__(self, problem: str, node: Node | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = node.start_mark if node is not None else None


class _StrictLoader(yaml.SafeLoader):
    """The safe loader, refusing a key that a mapping already has."""

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, MappingNode):
            seen: dict[Any, Node] = {}
            for key_node, _ in node.value:
                if key_node.tag == MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: the safe loader says so itself
                    break
                if first is not None:
                    raise ConstructorError(
                        f"in the mapping starting on line {node.start_mark.line + 1}",
                        node.start_mark,
                        f"{key!r} is given twice (first on line {first.start_mark.line + 1})",
                        key_node.start_mark,
                    )
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)  # type: ignore[arg-type]


def load_yaml(text: str) -> Any:
    """The document in `text`, or None when empty. Raises yaml.YAMLError (YamlLimitError for
    a document refused for its size or depth)."""
    loader = _StrictLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise YamlLimitError(f"nested too deeply (more than {MAX_DEPTH} levels)") from None
        if node is None:
            return None
        check_bounds(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def check_bounds(root: Node) -> None:
    """YamlLimitError when `root` expands to more than MAX_VALUES values, nests deeper than
    MAX_DEPTH, or holds an alias of a node inside itself."""
    sizes: dict[int, int] = {}  # expanded size of each distinct node, by id
    open_nodes: set[int] = set()
    # an explicit stack: (node, depth, children done?)
    stack: list[tuple[Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            if sizes[key] > MAX_VALUES:
                raise YamlLimitError(
                    f"expands to more than {MAX_VALUES:,} values with its aliases (a YAML bomb?)",
                    node,
                )
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise YamlLimitError("an alias refers to a node that contains it", node)
        if depth > MAX_DEPTH:
            raise YamlLimitError(f"nested too deeply (more than {MAX_DEPTH} levels)", node)
        open_nodes.add(key)
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in _children(node))


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []
