"""Sizes in bytes as people write them in a pipeline file: `64MiB`, `1GB`, `1.5 GiB`, 1048576."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, ByteSize, ValidationError, ValidatorFunctionWrapHandler
from pydantic.functional_validators import WrapValidator

MIB = 1024 * 1024
# Rows of one kind (checked, planned, or a whole read's) held before they go to working files.
DEFAULT_WORK_MEMORY = 64 * MIB
MIN_WORK_MEMORY = MIB


def _enough_to_work(value: ByteSize) -> ByteSize:
    """Refused below 1MiB: `work_memory: 512` is 512 bytes, most likely a missing unit."""
    if value < MIN_WORK_MEMORY:
        raise ValueError(f"at least 1MiB, got {value.human_readable()}")
    return value


def _a_size(value: Any, handler: ValidatorFunctionWrapHandler) -> ByteSize:
    """pydantic's parse, with a message that shows how a size is written."""
    try:
        size: ByteSize = handler(value)
    except ValidationError:
        raise ValueError(f"{value!r} is not a size: write it like 64MiB or 1GiB") from None
    return size


WorkMemory = Annotated[ByteSize, WrapValidator(_a_size), AfterValidator(_enough_to_work)]
