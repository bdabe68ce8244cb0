"""Field types every API router shares, so bad input is a 422 naming the field, never a 500."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field


def _sensible_moment(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("give the time with its UTC offset, e.g. 2026-12-01T10:00:00+03:00")
    if not 1900 <= value.year <= 2100:
        raise ValueError("must lie between the years 1900 and 2100")
    return value


# A database id: larger numbers would overflow the database's integer and fail deep inside a query.
DbId = Annotated[int, Field(ge=1, le=2**63 - 1)]
# An aware time within two centuries: naive times are ambiguous across branch zones.
Moment = Annotated[datetime, AfterValidator(_sensible_moment)]
# How many rows a list endpoint returns.
Limit = Annotated[int, Field(ge=1, le=1000)]
