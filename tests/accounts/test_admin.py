import pytest
from django.contrib.auth.models import Group, User

from clinicflow.accounts.models import ApiToken, Role

pytestmark = pytest.mark.django_db


def test_the_three_roles_exist_as_groups():
    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)


@pytest.fixture
def superuser_client(client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


@pytest.mark.parametrize("url", ["/admin/", "/admin/auth/user/add/", "/admin/clinic/branch/add/",
                                 "/admin/funnel/intakequestion/", "/admin/automation/job/",
                                 "/admin/clinic/clinicsettings/"])
def test_the_admin_pages_open(superuser_client, url):
    assert superuser_client.get(url).status_code == 200


def test_an_api_token_is_shown_once_and_stored_hashed(superuser_client, receptionist):
    response = superuser_client.post("/admin/accounts/apitoken/add/", {
        "name": "Website", "user": receptionist.pk, "scopes": ["patients:read"], "expires_in_days": "30"})
    key = response.context["key"]  # on the page itself; tests/accounts/test_tokens.py checks where it is not
    token = ApiToken.objects.get()
    assert key.startswith("cf_") and token.key_hash == ApiToken.hash(key) and key not in token.key_hash
    assert ApiToken.authenticate(key).user == receptionist
