"""Rebuild the oracle vectors from the libraries' published source distributions.

    pip download --no-deps --no-binary :all: email-validator==2.4.0 phonenumbers==9.0.43 \
        tldextract==5.4.0 -d /tmp/sdists          # then unpack each archive there
    python tests/data/oracles/extract.py /tmp/sdists

Writes email_validator.json, phonenumbers.json and tldextract.json next to this file. Each
vector keeps the test it came from and what that test expected, under that test's options;
the suite re-asks the installed library, under crmsync's options, for the verdict it checks.
Not run by the test suite: it needs the unpacked sources.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import inspect
import json
import os
import sys
import unittest
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
VERSIONS = {"email_validator": "2.4.0", "phonenumbers": "9.0.43", "tldextract": "5.4.0"}


def _write(name: str, meta: dict[str, Any], vectors: list[dict[str, Any]]) -> None:
    path = HERE / f"{name}.json"
    # One vector a line, for readable diffs; ASCII escapes, since some inputs are lone
    # surrogates or control characters.
    head = json.dumps({**meta, "count": len(vectors)}, ensure_ascii=True)[:-1]
    lines = ",\n".join(json.dumps(vector, ensure_ascii=True) for vector in vectors)
    path.write_text(f'{head}, "vectors": [\n{lines}\n]}}\n', encoding="utf-8")
    print(f"{path.name}: {len(vectors)} vectors")


def _plain(value: Any) -> Any:
    """A test's expected value as JSON: objects become their attribute dicts."""
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return {key: _plain(item) for key, item in sorted(vars(value).items())}


# email-validator: tests/test_syntax.py


def _literal_inputs(function: ast.FunctionDef) -> Iterator[str]:
    """String literals passed to validate_email in a test that is not parametrized."""
    loops: dict[str, list[str]] = {}
    for node in ast.walk(function):
        if (
            isinstance(node, ast.For)
            and isinstance(node.target, ast.Name)
            and isinstance(node.iter, ast.Tuple)
        ):
            loops[node.target.id] = [
                item.value for item in node.iter.elts if isinstance(item, ast.Constant)
            ]
    for node in ast.walk(function):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "validate_email"):
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            yield first.value
        elif isinstance(first, ast.Name):
            yield from loops.get(first.id, [])


def email_vectors(root: Path) -> list[dict[str, Any]]:
    source = root / f"email_validator-{VERSIONS['email_validator']}" / "tests" / "test_syntax.py"
    sys.path.insert(0, str(source.parent))
    module = importlib.import_module("test_syntax")
    tree = ast.parse(source.read_text(encoding="utf-8"))
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    vectors: list[dict[str, Any]] = []
    for name, function in inspect.getmembers(module, inspect.isfunction):
        if not name.startswith("test_"):
            continue
        where = f"tests/test_syntax.py::{name}"
        marks = [m for m in getattr(function, "pytestmark", []) if m.name == "parametrize"]
        if not marks:
            for value in _literal_inputs(functions[name]):
                vectors.append({"source": where, "input": value, "expected": None})
            continue
        (mark,) = marks
        for params in mark.args[1]:
            params = params if isinstance(params, tuple | list) else (params,)
            if name == "test_email_unsafe_character":  # the test builds two addresses
                char, expected = params
                for value in (char + "@test", "test@" + char):
                    vectors.append({"source": where, "input": value, "expected": expected})
                continue
            expected = _plain(params[1]) if len(params) > 1 else None
            vectors.append({"source": where, "input": params[0], "expected": expected})
    return vectors


# phonenumbers: every parse() call its unit tests make


def _test_caller() -> str:
    """file::test of the nearest test method on the stack (frames only: inspect.stack()
    reads source and compiles patterns, which one of phonenumbers' tests forbids)."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_name.startswith("test"):
            return f"{Path(frame.f_code.co_filename).name}::{frame.f_code.co_name}"
        frame = frame.f_back
    return "?"


def phone_vectors(root: Path) -> list[dict[str, Any]]:
    sdist = root / f"phonenumbers-{VERSIONS['phonenumbers']}"
    sys.path.insert(0, str(sdist))
    import phonenumbers
    from phonenumbers import phonenumberutil

    seen: dict[tuple[str, str | None], str] = {}
    original: Callable[..., Any] = phonenumberutil.parse

    def recording(number: Any, region: Any = None, *args: Any, **kwargs: Any) -> Any:
        if isinstance(number, str) and (region is None or isinstance(region, str)):
            seen.setdefault((number, region), "tests/" + _test_caller())
        return original(number, region, *args, **kwargs)

    phonenumbers.parse = recording
    phonenumberutil.parse = recording
    suite = unittest.TestSuite()
    for name in ("phonenumberutiltest", "examplenumberstest", "shortnumberinfotest",
                 "phonenumbermatchertest"):  # fmt: skip
        module = importlib.import_module(f"tests.{name}")
        suite.addTests(unittest.defaultTestLoader.loadTestsFromModule(module))
    result = unittest.TextTestRunner(verbosity=0).run(suite)
    phonenumbers.parse = original
    phonenumberutil.parse = original
    if not result.wasSuccessful():
        raise SystemExit("phonenumbers' own tests failed; vectors not written")
    return [
        {"source": where, "number": number, "region": region}
        for (number, region), where in seen.items()
    ]


# tldextract: tests/main_test.py and the doctests

_EXTRACTORS = {
    "extract", "extract_no_cache", "extract_using_real_local_suffix_list",
    "extract_using_real_local_suffix_list_no_cache",
    "extract_using_fallback_to_snapshot_no_cache", "extract_private", "extract_public1",
    "extract_public2", "extract_str", "extract_urllib",
}  # fmt: skip
_FIELDS = ("fqdn", "subdomain", "domain", "suffix")


def _call_name(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _extraction(node: ast.AST) -> tuple[str, bool] | None:
    """(url, include_psl_private_domains) when `node` extracts from a literal URL."""
    if not isinstance(node, ast.Call) or _call_name(node.func) not in _EXTRACTORS:
        return None
    if not node.args:
        return None
    first = node.args[0]
    if isinstance(first, ast.Call) and first.args:  # extract_urllib(urlsplit("..."))
        first = first.args[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return None
    private = _call_name(node.func) == "extract_private"
    for keyword in node.keywords:
        if keyword.arg == "include_psl_private_domains":
            private = bool(ast.literal_eval(keyword.value))
    return first.value, private


def _expected(node: ast.AST) -> dict[str, Any] | None:
    if isinstance(node, ast.Call) and _call_name(node.func) == "ExtractResult":
        return {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
    if isinstance(node, ast.Constant):
        return {"value": node.value}
    return None


def _compared(tree: ast.AST, where: str) -> Iterator[dict[str, Any]]:
    """`extract(url).attr == "x"` and `extract(url) == ExtractResult(...)` assertions."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        expected = next((e for e in map(_expected, operands) if e is not None), None)
        for operand in operands:
            attribute = None
            if isinstance(operand, ast.Attribute):
                attribute, operand = operand.attr, operand.value
            found = _extraction(operand)
            if found is None or expected is None:
                continue
            url, private = found
            want = {attribute: expected["value"]} if attribute else expected
            yield {"source": where, "input": url, "private": private, "expected": want}


def tld_vectors(root: Path) -> list[dict[str, Any]]:
    sdist = root / f"tldextract-{VERSIONS['tldextract']}"
    main_test = sdist / "tests" / "main_test.py"
    tree = ast.parse(main_test.read_text(encoding="utf-8"))
    vectors: list[dict[str, Any]] = []
    for function in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
        where = f"tests/main_test.py::{function.name}"
        for decorator in function.decorator_list:  # the parametrized urllib test
            if not (isinstance(decorator, ast.Call) and len(decorator.args) == 2):
                continue
            names = ast.literal_eval(decorator.args[0])
            names = names.split(",") if isinstance(names, str) else names
            if "url" not in names or not isinstance(decorator.args[1], ast.List):
                continue
            for row in ast.literal_eval(decorator.args[1]):
                url, (subdomain, domain, suffix), _ = row
                expected = {"subdomain": subdomain, "domain": domain, "suffix": suffix}
                vectors.append(
                    {"source": where, "input": url, "private": False, "expected": expected}
                )
        for node in ast.walk(function):
            if isinstance(node, ast.Call) and _call_name(node.func) == "assert_extract":
                url = ast.literal_eval(node.args[0])
                fields = dict(zip(_FIELDS, ast.literal_eval(node.args[1]), strict=True))
                vectors.append({"source": where, "input": url, "private": False,
                                "expected": fields})  # fmt: skip
        vectors.extend(_compared(function, where))
    parser = doctest.DocTestParser()
    for module in sorted((sdist / "tldextract").glob("*.py")):
        where = f"tldextract/{module.name} (doctest)"
        docstrings = [
            ast.get_docstring(node) or ""
            for node in ast.walk(ast.parse(module.read_text(encoding="utf-8")))
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        ]
        for example in (e for text in docstrings for e in parser.get_examples(text)):
            try:
                node = ast.parse(example.source.strip(), mode="eval").body
            except SyntaxError:
                continue
            want = example.want.strip()
            attribute = None
            if isinstance(node, ast.Attribute):
                attribute, node = node.attr, node.value
            found = _extraction(node)
            if found is None:
                continue
            url, private = found
            expected: dict[str, Any] = (
                {attribute: ast.literal_eval(want)} if attribute else {"repr": want}
            )
            vectors.append({"source": where, "input": url, "private": private,
                            "expected": expected})  # fmt: skip
    return vectors


def main() -> None:
    if os.environ.get("PYTHONHASHSEED") != "0":
        # One of phonenumbers' tests walks a set of regions: a fixed hash seed fixes its order.
        environment = {**os.environ, "PYTHONHASHSEED": "0"}
        os.execve(sys.executable, [sys.executable, *sys.argv], environment)
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/sdists")
    licence = {
        "email_validator": "Unlicense (CC0 1.0 before 2024-02-04)",
        "phonenumbers": "Apache-2.0",
        "tldextract": "BSD-3-Clause",
    }
    for name, build in (
        ("email_validator", email_vectors),
        ("phonenumbers", phone_vectors),
        ("tldextract", tld_vectors),
    ):
        meta = {"library": name, "version": VERSIONS[name], "license": licence[name]}
        _write(name, meta, build(root))


if __name__ == "__main__":
    main()
