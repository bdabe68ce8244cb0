"""Patients of both branches and API tokens of each persona."""

import pytest

from clinicflow.accounts.models import ApiToken


@pytest.fixture
def bearer():
    """Issue a token for a user and return the request header that carries it."""

    def bearer(user) -> dict:
        _token, key = ApiToken.issue(user=user, name=f"{user.username}'s integration")
        return {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    return bearer
