"""Two patients, one per branch, for the access rules."""

import pytest


@pytest.fixture
def plain_user(django_user_model):
    """Someone with a login who is not clinic staff (no role)."""
    return django_user_model.objects.create_user("visitor", password="pass-visitor")
