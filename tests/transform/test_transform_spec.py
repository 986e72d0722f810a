"""spec: the rules are read from the models, and a rule the frame cannot check is refused."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import Field, field_validator, model_validator

from crmsync.schema import OBJECTS, ActivityCreate, CompanyCreate, ContactCreate
from crmsync.schema.base import RequestModel
from crmsync.schema.fields import GUID_PATTERN, RequiredText
from crmsync.transform.spec import Kind, UnsupportedRule, field_specs, spec_by_wire, type_only_rules


def test_contact_rules_come_from_the_model() -> None:
    specs = spec_by_wire(ContactCreate)
    assert list(specs) == [info.alias for info in ContactCreate.model_fields.values()]
    assert (specs["firstName"].required, specs["firstName"].non_blank) == (True, True)
    assert specs["email"].email and specs["email"].required
    assert (specs["leadScore"].kind, specs["leadScore"].ge, specs["leadScore"].le) == (
        Kind.INTEGER, 0, 100,
    )  # fmt: skip
    assert specs["ownerId"].pattern == GUID_PATTERN and specs["ownerId"].nullable
    assert not specs["lifecycleStage"].required and not specs["lifecycleStage"].nullable
    assert specs["tags"].kind is Kind.TEXT


def test_company_and_activity_rules() -> None:
    company = spec_by_wire(CompanyCreate)
    assert company["tags"].kind is Kind.TEXT_LIST
    assert (company["annualRevenue"].kind, company["annualRevenue"].ge) == (Kind.DECIMAL, 0)
    activity = spec_by_wire(ActivityCreate)
    assert activity["activityType"].choices == ("note", "task", "call", "meeting")
    assert activity["status"].choices == ("pending", "completed")
    assert activity["scheduledAt"].kind is Kind.DATETIME
    rules = {(rule.wire, rule.kind) for rule in type_only_rules(ActivityCreate)}
    assert ("callDirection", "call") in rules and ("meetingUrl", "meeting") in rules


@pytest.mark.parametrize("obj_name", sorted(OBJECTS))
def test_every_model_is_fully_understood(obj_name: str) -> None:
    model = OBJECTS[obj_name].create
    assert len(field_specs(model)) == len(model.model_fields)
    type_only_rules(model)  # raises if a model validator is not understood


class _MultipleOf(RequestModel):
    score: Annotated[int, Field(multiple_of=5)]


class _FieldValidator(RequestModel):
    name: RequiredText

    @field_validator("name")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class _ModelValidator(RequestModel):
    name: RequiredText

    @model_validator(mode="after")
    def _check(self) -> _ModelValidator:
        return self


class _Union(RequestModel):
    value: int | str


@pytest.mark.parametrize(
    ("model", "check"),
    [
        (_MultipleOf, field_specs),
        (_FieldValidator, type_only_rules),
        (_ModelValidator, type_only_rules),
        (_Union, field_specs),
    ],
    ids=["multiple_of", "field_validator", "model_validator", "union"],
)
def test_rules_the_frame_cannot_check_are_refused(model: type[RequestModel], check: object) -> None:
    with pytest.raises(UnsupportedRule):
        check(model)  # type: ignore[operator]
