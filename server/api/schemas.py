"""Base models for request bodies and responses: bodies refuse unknown fields.

A write that sends a field the API does not take (`total_points`,
`current_tier`, `promoter_id` where the server decides it, ...) is a 422 and
changes nothing. Seed 003's resources (packages, rewards) use the seed's
camelCase names; everything else uses the schema's snake_case names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel, to_snake

from server.domain.promoters import FieldErrors


class RequestModel(BaseModel):
    """A request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CamelRequest(BaseModel):
    """A request body in the seed's camelCase (snake_case names accepted too)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
    )


class SeedRequest(CamelRequest):
    """A seed 003 body: a field outside its limit answers 422 with the seed's code for that field.

    `FIELD_CODES` maps fields (snake_case, nested ones by their own name) to the
    seed's error code (`PACKAGE_INVALID_PRICE`, ...). When every problem lies in
    such fields, the refusal is a `FieldErrors` under the first one's code,
    with `fields` naming each; otherwise it stays the usual `invalid_request`.
    """

    FIELD_CODES: ClassVar[Mapping[str, str]] = {}

    @model_validator(mode="wrap")
    @classmethod
    def _seed_codes(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        try:
            return handler(data)
        except ValidationError as exc:
            codes = [cls._code_for(error["loc"]) for error in exc.errors()]
            if not codes or None in codes:
                raise
            fields = {
                ".".join(("body", *map(str, error["loc"]))): error["msg"] for error in exc.errors()
            }
            raise FieldErrors(fields, code=codes[0]) from exc

    @classmethod
    def _code_for(cls, loc: tuple[int | str, ...]) -> str | None:
        names = [to_snake(part) for part in loc if isinstance(part, str)]
        return cls.FIELD_CODES.get(names[-1]) if names else None


class View(BaseModel):
    """A response built from a row."""

    model_config = ConfigDict(from_attributes=True)


class CamelView(BaseModel):
    """A response in the seed's camelCase, built from a row."""

    model_config = ConfigDict(
        from_attributes=True,
        alias_generator=to_camel,
        validate_by_name=True,
        serialize_by_alias=True,
    )


class ErrorDetail(BaseModel):
    """The inside of every error response."""

    code: str
    message: str
    fields: dict[str, str] | None = None


class ErrorBody(BaseModel):
    """Every error response: `{"error": {"code", "message"}}` (`fields` for per-field problems)."""

    error: ErrorDetail


def example_response(example: Any, description: str = "Success") -> dict[str, Any]:
    """An OpenAPI `responses` entry that documents a JSON example."""
    return {"description": description, "content": {"application/json": {"example": example}}}


class PartialUpdate(CamelRequest):
    """A PUT body: absent fields stay as they are; `NOT_NULL` fields refuse an explicit null."""

    NOT_NULL: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Self:
        nulls = sorted(
            name for name in self.model_fields_set & self.NOT_NULL if getattr(self, name) is None
        )
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, by Python name."""
        return {name: getattr(self, name) for name in self.model_fields_set}
