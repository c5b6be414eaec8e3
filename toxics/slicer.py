"""The ``slicer`` toxic: cut the data into small chunks, optionally delaying each one."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from toxics.model import MAX_DURATION_US, MAX_SIZE_BYTES, ToxicModel


class Slicer(ToxicModel):
    """Chunks of ``average_size_bytes`` ± ``size_variation_bytes``, ``delay_us`` apart (µs, as Toxiproxy)."""

    type: ClassVar[str] = "slicer"

    average_size_bytes: int = Field(ge=1, le=MAX_SIZE_BYTES)
    size_variation_bytes: int = Field(le=MAX_SIZE_BYTES)
    delay_us: int = Field(default=0, ge=0, le=MAX_DURATION_US)

    @field_validator("size_variation_bytes")
    @classmethod
    def _not_zero(cls, value: int) -> int:
        # Toxiproxy calls rand.Intn(2 * size_variation) for any chunk larger than
        # the average: with 0 that panics and takes the whole server down.
        if value < 1:
            raise PydanticCustomError(
                "slicer_variation", "must be at least 1 (Toxiproxy's slicer crashes on 0), got {value}",
                {"value": value},
            )
        return value

    @model_validator(mode="after")
    def _variation_below_average(self) -> Slicer:
        # Toxiproxy's documented rule: a chunk is cut when longer than average +
        # variation, at its middle ± variation, so only variation < average keeps
        # the cut inside the chunk (outside it is a panic again).
        if self.size_variation_bytes >= self.average_size_bytes:
            raise ValidationError.from_exception_data(type(self).__name__, [{
                "type": PydanticCustomError(
                    "slicer_variation",
                    "must be smaller than average_size_bytes ({average}), got {value}",
                    {"average": self.average_size_bytes, "value": self.size_variation_bytes},
                ),
                "loc": ("size_variation_bytes",),
                "input": self.size_variation_bytes,
            }])
        return self

    def attributes(self) -> dict[str, int]:
        return {
            "average_size": self.average_size_bytes,
            "size_variation": self.size_variation_bytes,
            "delay": self.delay_us,
        }

    def describe(self) -> str:
        delay = f", {self.delay_us} µs apart" if self.delay_us else ""
        return f"slicer, {self.average_size_bytes} ±{self.size_variation_bytes} byte chunks{delay}"
