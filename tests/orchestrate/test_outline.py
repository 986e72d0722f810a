"""A pipeline file's outline (name and steps) is read without the run's environment, and a
file without usable names is refused with the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmsync.errors import ConfigError
from crmsync.orchestrate import read_outline


def write(folder: Path, text: str) -> Path:
    path = folder / "pipeline.yaml"
    path.write_text(text)
    return path


def test_a_file_without_steps_is_one_step_named_after_the_pipeline(tmp_path: Path) -> None:
    outline = read_outline(
        write(tmp_path, "name: contacts-csv\nobject: contacts\napi_key: ${NOT_SET_HERE}\n")
    )
    assert (outline.name, outline.step_names, outline.single_step) == (
        "contacts-csv",
        ["contacts-csv"],
        True,
    )
    assert outline.path == tmp_path / "pipeline.yaml"


def test_steps_keep_their_order_and_object(tmp_path: Path) -> None:
    text = "name: m\nsteps:\n  - {name: companies, object: companies}\n  - {name: people}\n"
    outline = read_outline(write(tmp_path, text))
    assert [(s.name, s.object) for s in outline.steps] == [
        ("companies", "companies"),
        ("people", ""),
    ]
    assert not outline.single_step


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("object: contacts\n", "name: required key is missing"),
        ("name: ${CRMSYNC_UNSET_NAME}\n", "name: environment variable CRMSYNC_UNSET_NAME"),
        ("name: m\nsteps: []\n", "steps: a non-empty list of steps is required"),
        ("name: m\nsteps: [companies]\n", "steps[0]: a step is a mapping"),
        ("name: m\nsteps:\n  - {object: contacts}\n", "steps[0].name: required key is missing"),
        ("- a list\n", "a pipeline file is a YAML mapping"),
    ],
    ids=["no-name", "unset-name", "no-steps", "step-not-mapping", "step-no-name", "not-mapping"],
)
def test_a_file_without_usable_names_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        read_outline(path)
    assert str(raised.value).startswith(f"{path}: ")
    assert message in str(raised.value)
