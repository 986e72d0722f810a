"""YAML text for the starter pipeline file: values that read back as themselves, column
names safe inside comments, comments wrapped to the file's width.

Column names come from files nobody vetted, so none is ever written raw: values go through
``yaml.safe_dump`` (and are checked to read back as themselves), names in comments lose every
character that could end the comment (line breaks of any kind, control characters), and a
name holding ``${`` is written so the pipeline loader's ``${VAR}`` substitution cannot touch
it (mappings ignore punctuation when they match headers, so it still names the column).
"""

from __future__ import annotations

import json
import textwrap
import unicodedata

import yaml

WIDTH = 100
COMMENT_COLUMN = 32
MAX_NAME_CHARS = 80
ENV_OPENING = "${"
CODE_INDENT = "  "
QUOTE = '"'


def _no_env(value: object) -> object:
    """``${`` made ``$ {`` wherever it occurs, so ``${VAR}`` substitution leaves it alone."""
    if isinstance(value, str):
        return value.replace(ENV_OPENING, "$ {")
    if isinstance(value, list):
        return [_no_env(item) for item in value]
    if isinstance(value, dict):
        return {key: _no_env(item) for key, item in value.items()}
    return value


def scalar(value: object, *, sort_keys: bool = True) -> str:
    """``value`` as one line of YAML that reads back as exactly ``value`` (``${`` defused);
    a mapping's keys in order, or as given (a lookup key's kind and column before its
    settings)."""
    value = _no_env(value)
    text = yaml.safe_dump(
        value, default_flow_style=True, allow_unicode=True, width=10**6, sort_keys=sort_keys
    )
    text = text.strip().removesuffix("\n...").strip()
    if not text.isprintable() or yaml.safe_load(text) != value:
        text = json.dumps(value, ensure_ascii=True)  # JSON is YAML; escapes every line break
    if yaml.safe_load(text) != value:  # pragma: no cover - a safe_dump/json disagreement
        raise ValueError(f"cannot write {value!r} as one line of YAML")
    return text


def quoted(text: str) -> str:
    """A column name, safe inside a comment: quoted, one line, control characters escaped."""
    out = []
    for ch in text[:MAX_NAME_CHARS]:
        if ch in "\r\n\x85\u2028\u2029" or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    more = "..." if len(text) > MAX_NAME_CHARS else ""
    return '"' + "".join(out) + more + '"'


def _comment_text(text: str) -> str:
    """Free text for a comment: whatever it quotes, one line."""
    return " ".join(
        "".join(
            ch if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp") else " "
            for ch in text.replace("\x85", " ")
        ).split()
    )


def comment_lines(text: str, indent: int = 0, *, item: bool = False) -> list[str]:
    """``text`` as comment lines of at most WIDTH characters (an indented list item when
    ``item``). A paragraph after a line break that starts with two spaces is YAML to copy: it
    gets a line of its own, never wrapped."""
    prefix = " " * indent + "# "
    lines: list[str] = []
    for number, paragraph in enumerate(text.split("\n")):
        if number and paragraph.startswith(CODE_INDENT):
            hang = "    " if item else ""
            lines.append(prefix + hang + CODE_INDENT + _comment_text(paragraph))
            continue
        lines += [
            prefix + line
            for line in textwrap.wrap(
                _comment_text(paragraph),
                width=WIDTH - len(prefix),
                initial_indent="  " if item and not number else "",
                subsequent_indent="    " if item else "",
                break_long_words=False,
            )
        ]
    return lines or [prefix.rstrip()]


def with_comment(line: str, text: str, indent: int) -> list[str]:
    """``line  # text`` when it fits, else the comment on the lines above."""
    if not text:
        return [line]
    padded = line.ljust(COMMENT_COLUMN)
    joined = f"{padded}  # {_comment_text(text)}"
    if len(joined) <= WIDTH:
        return [joined]
    return [*comment_lines(text, indent), line]
