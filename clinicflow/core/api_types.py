"""Field types every API router shares, so bad input is a 422 naming the field, never a 500."""

import re
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, Literal

from django.utils.translation import gettext
from pydantic import AfterValidator, BeforeValidator, Field, StrictBool, WithJsonSchema
from pydantic_core import PydanticCustomError

# What the published schema says about every text input. A lone surrogate cannot occur in UTF-8, so
# clients that send UTF-8 JSON never produce one; NUL must be excluded explicitly.
TEXT_PATTERN = r"^[^\x00]*$"


def _plain_text(value: str) -> str:
    # PostgreSQL refuses NUL in text columns and both databases refuse to encode a lone surrogate
    # (a JSON "\ud800" escape): either would otherwise fail deep inside a query as a 500.
    if "\x00" in value:
        raise PydanticCustomError("text_nul", gettext("Text must not contain the NUL character."))
    if any("\ud800" <= char <= "\udfff" for char in value):
        raise PydanticCustomError("text_surrogate", gettext("Text must be valid Unicode (no lone surrogates)."))
    return value


def _written_as_iso_8601(value: Any) -> Any:
    # pydantic would also read 0.5 or "1700000000" as seconds since 1970: too easy to send by mistake.
    if isinstance(value, datetime) or (isinstance(value, str) and re.match(r"\d{4}-\d{2}-\d{2}", value)):
        return value
    raise PydanticCustomError("datetime_iso", gettext("give the time in ISO 8601, e.g. 2026-12-01T10:00:00+03:00"))


def _sensible_moment(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(gettext("give the time with its UTC offset, e.g. 2026-12-01T10:00:00+03:00"))
    if not 1900 <= value.year <= 2100:
        raise ValueError(gettext("must lie between the years 1900 and 2100"))
    return value


# Every str field of every API schema and every text query parameter. Lengths go on the field:
# `name: Text = Field("", max_length=160)`.
Text = Annotated[str, AfterValidator(_plain_text), Field(json_schema_extra={"pattern": TEXT_PATTERN})]
# The patient search box: long enough for any name, phone or e-mail, short enough to stay a cheap query.
SearchText = Annotated[Text, Field(max_length=200)]
# A page address the inquiry form reports; the service refuses anything but http(s).
PageUrl = Annotated[str, AfterValidator(_plain_text),
                    Field(max_length=1000, json_schema_extra={"pattern": r"^([hH][tT][tT][pP][sS]?://[^\x00]*)?$"})]
# A database id: larger numbers would overflow the database's integer and fail deep inside a query.
DbId = Annotated[int, Field(ge=1, le=2**63 - 1)]
# An aware time within two centuries: naive times are ambiguous across branch zones.
Moment = Annotated[datetime, BeforeValidator(_written_as_iso_8601), AfterValidator(_sensible_moment),
                   Field(json_schema_extra={"pattern": r"^(19[0-9]{2}|20[0-9]{2}|2100)-"})]
# How many rows a list endpoint returns.
Limit = Annotated[int, Field(ge=1, le=1000)]
# JSON true or false only: "yes", "no", 1 and 0 are refused rather than guessed.
Flag = StrictBool
# A flag the request must set to true (consent). The service refuses false or missing with a message
# of its own, next to the other fields' errors; the schema tells clients the only value accepted.
MustBeTrue = Annotated[StrictBool, WithJsonSchema({"type": "boolean", "const": True})]


def one_of(choices: type[Enum], *extra: str) -> Any:
    """A query parameter limited to an enum's values (plus e.g. "" for "any"): a typo is a 422, not an empty list."""
    return Literal[(*extra, *(member.value for member in choices))]
