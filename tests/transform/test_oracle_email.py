"""email-validator as the oracle of crmsync's email normalizers.

Its own test vectors (tests/data/oracles/email_validator.json) and 5,000 seeded addresses
go through `email_error`, `email_errors` and `normalize_email`; the verdict and its words
must be the library's, and the stored form the library's normalized form up to the
deliberate deviations of `DELIBERATE`. Hypothesis then checks the fast paths on their own.
"""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.transform.conftest import run_expr
from tests.transform.oracle_inputs import email_inputs
from tests.transform.oracles import (
    Tally,
    judge_stored_email,
    library_email,
    library_keys,
    representable,
    same_version,
    vectors,
)

from crmsync.schema.fields import INTL_LOCAL_CHARS, email_error, is_simple_email
from crmsync.transform.normalizers.email import (
    CERTAIN_REJECTS,
    _library,
    certain_reject,
    email_errors,
    normalize_email,
    simple_email,
)

VECTORS = vectors("email_validator")
INPUTS = [vector["input"] for vector in VECTORS]
GENERATED = email_inputs()


def _stored(values: list[str]) -> list[str | None]:
    return run_expr(normalize_email, values)


def _verdicts_tally(values: list[str]) -> Tally:
    tally = Tally()
    polars_values = [value for value in values if representable(value)]
    batch = dict(
        zip(polars_values, email_errors(pl.Series(polars_values, dtype=pl.String)), strict=True)
    )
    for value in values:
        error, _ = library_email(value)
        ours = [email_error(value)] + ([batch[value]] if value in batch else [])
        if all(answer == error for answer in ours):
            tally.agreed()
        else:
            tally.disagreed(f"{value!r}: crmsync {ours}, library {error!r}")
    return tally


def _stored_tally(values: list[str]) -> Tally:
    tally = Tally()
    values = [value for value in values if representable(value)]
    for value, stored in zip(values, _stored(values), strict=True):
        judge_stored_email(tally, value, stored)
    return tally


def test_vectors_are_the_library_suite() -> None:
    assert len(VECTORS) == 321
    assert sum(not representable(value) for value in INPUTS) == 2  # lone surrogates


@pytest.mark.skipif(not same_version("email_validator"), reason="vectors from another version")
def test_recorded_messages_still_hold() -> None:
    """The syntax-error vectors were recorded with crmsync's own options: same words."""
    recorded = [v for v in VECTORS if v["source"].endswith("::test_email_invalid_syntax")]
    assert len(recorded) == 83
    for vector in recorded:
        assert library_email(vector["input"])[0] == vector["expected"], vector["input"]


def test_vector_verdicts_are_the_library_verdicts() -> None:
    tally = _verdicts_tally(INPUTS)
    tally.check()
    assert tally.counts == {"agreed": 321}


def test_generated_verdicts_are_the_library_verdicts() -> None:
    tally = _verdicts_tally(GENERATED)
    tally.check()
    assert tally.counts == {"agreed": len(GENERATED)}


def test_vector_stored_forms_are_the_library_normalized_forms() -> None:
    tally = _stored_tally(INPUTS)
    tally.check()
    assert tally.used <= library_keys("email-validator")
    assert sum(tally.counts.values()) == 319


def test_generated_stored_forms_are_the_library_normalized_forms() -> None:
    """Every deliberate deviation is needed, and none other: the table is exact."""
    tally = _stored_tally(GENERATED)
    tally.check()
    assert tally.used == library_keys("email-validator")


SPELLINGS = {
    "punycode": ("test@xn--hxajbheg2az3al.xn--jxalpdlp", "test@παράδειγμα.δοκιμή"),
    "ideographic-stop": ("wcg@example\u3002com", "wcg@example.com"),
    "fullwidth-stop": ("wcg@example\uff0ecom", "wcg@example.com"),
    "nfd": ("Jos\u0065\u0301@Example.com", "jos\u00e9@example.com"),
    "nfc": ("jos\u00e9@EXAMPLE.COM", "jos\u00e9@example.com"),
    "fullwidth-letters": ("me@ＢÜCHER.de", "me@bücher.de"),
    "refused-kept-as-given": ("Bad..Local@xn--bcher-kva.de", "bad..local@xn--bcher-kva.de"),
    "refused-nfd-kept": ("<\u0338me@example.com", "<\u0338me@example.com"),
}


@pytest.mark.parametrize(("raw", "stored"), SPELLINGS.values(), ids=SPELLINGS.keys())
def test_equivalent_spellings_store_one_form(raw: str, stored: str) -> None:
    assert _stored([raw]) == [stored]


def test_message_words_are_the_library_words() -> None:
    """No message of crmsync's own: whitespace, CR and LF get the library's reasons."""
    values = ["my@example.com\n", "white space@test", "test@iana.org\r", "\tx@y.com"]
    errors = email_errors(pl.Series(values)).to_list()
    assert errors == [library_email(value)[0] for value in values]
    assert all("cannot contain spaces" not in error for error in errors)


# The fast paths on their own: hypothesis, with the library as the oracle.

_ATEXT = "abcXYZ019!#$%&'*+/=?^_`{|}~-"
# local parts of international characters too: those the simple shape admits, and a few it
# leaves to the library (a combining mark, capitals, a dotted capital I)
_LOCAL_TEXT = st.text(alphabet=_ATEXT + ".", max_size=10) | st.text(
    alphabet=st.sampled_from(_ATEXT + "." + INTL_LOCAL_CHARS[::997] + "\u0301\u0130\u00c9" * 3),
    max_size=10,
)
_SHAPED = st.builds(
    lambda local, sep, domain: f"{local}{sep}{domain}",
    _LOCAL_TEXT,
    st.sampled_from(["@", "@", "@", "", "@@", "＠"]),
    st.text(alphabet="abcXYZ019-.", max_size=14).map(
        lambda text: text + ("" if not text or text.endswith(".") else ".")
    )
    | st.text(alphabet="abcXYZ019-.", max_size=14)
    | st.sampled_from(["x.invalid", "a.LOCAL", "yy--0.tld", "xn--0.tld", "a.onion", "t.test"]),
)
_ANY = st.one_of(
    _SHAPED,
    st.emails().map(str),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=16),
    st.text(alphabet=_ATEXT + '.@ \n\t"<>()[]:ñ\u0301\u3002', max_size=16),
)
_PROPERTY = settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@_PROPERTY
@given(st.lists(_ANY, min_size=1, max_size=20))
def test_fast_paths_only_say_what_the_library_says(values: list[str]) -> None:
    frame = pl.DataFrame({"value": values}, schema={"value": pl.String})
    simple = frame.select(simple_email(pl.col("value"))).to_series().to_list()
    rejects = frame.select(certain_reject(pl.col("value"))).to_series().to_list()
    for value, cleared, reject in zip(values, simple, rejects, strict=True):
        error, result = library_email(value)
        assert cleared == is_simple_email(value), value
        if cleared:
            assert result is not None, value
            assert result.normalized.lower() == value.lower(), value
        if reject is not None:
            assert reject == error, value


@pytest.mark.slow  # generated inputs by the thousand: the whole suite runs it
@_PROPERTY
@given(st.lists(_ANY, min_size=1, max_size=20))
def test_email_error_and_email_errors_agree(values: list[str]) -> None:
    errors = email_errors(pl.Series(values, dtype=pl.String)).to_list()
    assert errors == [email_error(value) for value in values]


@_PROPERTY
@given(st.lists(st.one_of(st.none(), _ANY), max_size=12))
def test_stored_form_is_idempotent_and_judged_by_the_library(values: list[str | None]) -> None:
    once = run_expr(normalize_email, values)
    assert run_expr(normalize_email, once) == once
    tally = Tally()
    for value, stored in zip(values, once, strict=True):
        if value is not None:
            judge_stored_email(tally, value, stored)
    tally.check()


REJECT_SAMPLES = [
    "john.example.com", "@example.com", "john.@example.com", ".john@example.com",
    "jo..hn@example.com", "john@", "john@example.com.", "john@.example.com",
    "john@example..com", "john@example-", "john@-example.com", "john@example.-com",
    "john@localhost",
]  # fmt: skip
# the same shapes behind an international local part, which the library checks first
INTL_REJECT_SAMPLES = [
    "jürgen.example.com", "jürgen.@example.com", ".jürgen@example.com",
    "jür..gen@example.com", "jürgen@", "jürgen@example.com.", "jürgen@.example.com",
    "jürgen@example..com", "jürgen@example-", "jürgen@-example.com", "jürgen@example.-com",
    "jürgen@localhost",
]  # fmt: skip


@pytest.mark.parametrize(
    ("sample", "entry"), list(zip(REJECT_SAMPLES, CERTAIN_REJECTS, strict=True)), ids=REJECT_SAMPLES
)
def test_each_certain_reject_decides_its_sample_as_the_library(
    sample: str, entry: tuple[str, str]
) -> None:
    """Every pattern is needed (its sample reaches it first) and words it as the library."""
    assert run_expr(certain_reject, [sample]) == [entry[1]]
    assert library_email(sample)[0] == entry[1]


@pytest.mark.parametrize("sample", INTL_REJECT_SAMPLES)
def test_certain_rejects_read_an_international_local_part_as_the_library(sample: str) -> None:
    """Behind a local part the library keeps as it is, the same patterns decide, in its words;
    and normalizing keeps such a value as it is without asking it."""
    reject = run_expr(certain_reject, [sample])[0]
    assert reject is not None and reject == library_email(sample)[0]
    _library.cache_clear()
    assert run_expr(normalize_email, [sample]) == [sample]
    assert _library.cache_info().misses == 0  # decided without a call


@pytest.mark.parametrize("sample", ["\u0301j@", "\u0301j@example.com.", "x@\u0301.com", "\u200bj@"])
def test_certain_rejects_leave_an_unsafe_local_part_to_the_library(sample: str) -> None:
    """A local part the library refuses for a character (a mark first, an invisible one)
    is refused in its words, not in a pattern's about the domain."""
    assert run_expr(certain_reject, [sample]) == [None]
    assert email_errors(pl.Series([sample])).to_list() == [library_email(sample)[0]]


def test_every_international_character_the_pattern_clears_is_one_the_library_keeps() -> None:
    """Exhaustive over the characters the simple shape admits beyond ASCII: alone and inside
    a local part, the library accepts each address and stores it as it is."""
    addresses = [
        address
        for char in INTL_LOCAL_CHARS
        for address in (f"{char}@example.com", f"a.{char}{char}b@example.com")
    ]
    stored = _stored(addresses)
    for address, form in zip(addresses, stored, strict=True):
        error, result = library_email(address)
        assert error is None and result is not None, address
        assert result.normalized == address and form == address, address
        assert is_simple_email(address), address


_INTL_ATOM = st.text(
    alphabet=st.sampled_from(INTL_LOCAL_CHARS[::7] + "abcZ09+_-'" + "\u0301\u0130\u00c9"),
    min_size=1,
    max_size=8,
)
_INTL = st.builds(
    lambda atoms, sep, domain: sep.join(atoms) + "@" + domain,
    st.lists(_INTL_ATOM, min_size=1, max_size=3),
    st.sampled_from([".", ".", "..", ""]),
    st.sampled_from(
        [
            *("example.com", "Example.DE", "b\u00fccher.de", "x.invalid", "xn--bcher-kva.de"),
            *("", "example.com.", ".example.com", "ex..com", "ex-", "-ex.com", "ex.-com", "host"),
        ]
    ),
)


@pytest.mark.slow  # generated inputs by the thousand: the whole suite runs it
@_PROPERTY
@given(st.lists(_INTL, min_size=1, max_size=20))
def test_international_local_parts_agree_with_the_library(values: list[str]) -> None:
    """Verdicts and stored forms of internationalized addresses, with marks and capitals the
    fast path must leave to the library, agree with it."""
    _verdicts_tally(values).check()
    _stored_tally(values).check()
