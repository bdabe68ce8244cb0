"""API tokens: issued with scopes and an expiry, shown once, revoked for good (model, database, admin, command)."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction

from clinicflow.accounts.models import ApiToken, ApiTokenChangeRefused, TokenScope

pytestmark = pytest.mark.django_db

ADD = "/admin/accounts/apitoken/add/"
NOW = datetime(2025, 3, 12, 7, 0, tzinfo=UTC)


@pytest.fixture
def superuser_client(client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


@pytest.fixture
def revoked(receptionist) -> ApiToken:
    token, _key = ApiToken.issue(user=receptionist, name="old website", scopes=["patients:read"])
    token.revoke()
    return token


class TestIssue:
    def test_it_keeps_the_scopes_sorted_and_once(self, receptionist):
        token, _key = ApiToken.issue(user=receptionist, name="x", scopes=["tasks:read", "cases:write", "tasks:read"])
        assert token.scopes == ["cases:write", "tasks:read"]

    def test_it_refuses_an_unknown_scope(self, receptionist):
        with pytest.raises(ValueError, match="billing:read"):
            ApiToken.issue(user=receptionist, name="x", scopes=["billing:read"])
        assert not ApiToken.objects.exists()

    def test_it_refuses_a_token_without_scopes(self, receptionist):
        with pytest.raises(ValueError, match="at least one scope"):
            ApiToken.issue(user=receptionist, name="x", scopes=[])

    def test_it_refuses_an_expiry_in_the_past(self, receptionist):
        with pytest.raises(ValidationError):
            ApiToken.issue(user=receptionist, name="x", expires_at=datetime(2020, 1, 1, tzinfo=UTC))

    def test_write_implies_read_but_not_the_reverse(self, receptionist):
        token, _key = ApiToken.issue(user=receptionist, name="x", scopes=["cases:write", "tasks:read"])
        assert token.allows("cases:read") and token.allows("cases:write") and token.allows("tasks:read")
        assert not token.allows("tasks:write") and not token.allows("patients:read")

    def test_code_that_names_no_scopes_gets_all_of_them(self, receptionist):
        token, _key = ApiToken.issue(user=receptionist, name="x")
        assert token.scopes == list(TokenScope.ALL)


class TestRevocationIsFinal:
    def test_revoke_sets_the_time_once(self, revoked):
        first = revoked.revoked_at
        revoked.revoke()
        assert first is not None and revoked.revoked_at == first
        assert ApiToken.objects.get().revoked_at == first

    def test_saving_a_revoked_token_as_active_is_refused(self, revoked):
        revoked.revoked_at = None
        with pytest.raises(ApiTokenChangeRefused):
            revoked.save()
        assert ApiToken.objects.get().revoked_at is not None

    def test_a_token_cannot_be_handed_to_another_user(self, receptionist, outsider):
        token, _key = ApiToken.issue(user=receptionist, name="website")
        token.user = outsider
        with pytest.raises(ApiTokenChangeRefused):
            token.save()

    def test_a_token_cannot_gain_scopes_or_time(self, receptionist):
        token, _key = ApiToken.issue(user=receptionist, name="website", scopes=["tasks:read"],
                                     expires_at=datetime(2099, 1, 1, tzinfo=UTC))
        for field, value in [("scopes", list(TokenScope.ALL)), ("expires_at", None)]:
            token.refresh_from_db()
            setattr(token, field, value)
            with pytest.raises(ApiTokenChangeRefused):
                token.save()

    def test_its_name_may_change(self, revoked):
        revoked.name = "old website (2024)"
        revoked.save()
        assert ApiToken.objects.get().name == "old website (2024)"

    @pytest.mark.parametrize("change", [{"revoked_at": None}, {"revoked_at": NOW}, {"user": "outsider"},
                                        {"scopes": list(TokenScope.ALL)}, {"expires_at": NOW + timedelta(days=9)},
                                        {"key_hash": "0" * 64}])
    def test_the_database_refuses_it_too(self, revoked, outsider, change):
        """A raw UPDATE (shell, script, a bug) bypasses save(); the trigger of migration 0004 does not."""
        change = {field: outsider if value == "outsider" else value for field, value in change.items()}
        with pytest.raises(IntegrityError), transaction.atomic():
            ApiToken.objects.filter(pk=revoked.pk).update(**change)
        assert ApiToken.objects.get().revoked_at == revoked.revoked_at

    def test_the_database_lets_a_live_token_be_revoked_and_used(self, receptionist):
        token, _key = ApiToken.issue(user=receptionist, name="website")
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=NOW, name="site")
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=NOW)
        assert ApiToken.objects.get().revoked_at == NOW


class TestTheAdminIssuesAToken:
    def issue(self, client, user, **fields):
        data = {"name": "Website", "user": user.pk, "scopes": ["inquiries:write", "patients:read"],
                "expires_in_days": "90", **fields}
        return client.post(ADD, data)

    def test_it_answers_the_post_with_a_page_showing_the_key_once(self, superuser_client, receptionist):
        response = self.issue(superuser_client, receptionist)
        assert response.status_code == 200
        key = response.context["key"]
        assert key.startswith("cf_") and key in response.content.decode()
        assert ApiToken.authenticate(key).user == receptionist
        assert "no-store" in response["Cache-Control"]

    def test_the_key_is_in_no_cookie_message_session_log_or_database(self, superuser_client, receptionist, caplog):
        response = self.issue(superuser_client, receptionist)
        key = response.context["key"]
        assert all(key not in morsel.value for morsel in response.cookies.values())
        assert all(key not in morsel.value for morsel in superuser_client.cookies.values())
        assert not list(response.context["messages"])
        assert key not in str(dict(superuser_client.session))
        assert key not in caplog.text
        token = ApiToken.objects.get()
        row = ApiToken.objects.filter(pk=token.pk).values().get()
        assert not any(key in str(value) for value in row.values())
        from django.contrib.admin.models import LogEntry
        assert not any(key in str(entry.__dict__) for entry in LogEntry.objects.all())
        # The page is shown once: opening the token again shows no key.
        assert key not in superuser_client.get(f"/admin/accounts/apitoken/{token.pk}/change/").content.decode()

    def test_it_stores_the_chosen_scopes_and_expiry(self, superuser_client, receptionist, time_machine):
        time_machine.move_to(NOW, tick=False)
        self.issue(superuser_client, receptionist, expires_in_days="30")
        token = ApiToken.objects.get()
        assert token.scopes == ["patients:read", "inquiries:write"]
        assert token.expires_at == NOW + timedelta(days=30)

    def test_never_means_no_expiry(self, superuser_client, receptionist):
        self.issue(superuser_client, receptionist, expires_in_days="")
        assert ApiToken.objects.get().expires_at is None

    def test_it_needs_at_least_one_scope(self, superuser_client, receptionist):
        response = self.issue(superuser_client, receptionist, scopes=[])
        assert response.status_code == 200 and "scopes" in response.context["adminform"].form.errors
        assert not ApiToken.objects.exists()

    def test_it_offers_only_members_of_staff(self, superuser_client, receptionist):
        visitor = User.objects.create_user("visitor")
        response = self.issue(superuser_client, visitor)
        assert "user" in response.context["adminform"].form.errors
        assert not ApiToken.objects.exists()

    def test_the_list_shows_scopes_and_status(self, superuser_client, receptionist, revoked):
        ApiToken.issue(user=receptionist, name="website", scopes=["tasks:write"])
        page = superuser_client.get("/admin/accounts/apitoken/").content.decode()
        assert "tasks:write" in page and "patients:read" in page
        assert "revoked" in page and "active" in page


class TestTheAdminCannotUnrevoke:
    def test_posting_the_change_form_changes_nothing(self, superuser_client, revoked, outsider):
        response = superuser_client.post(f"/admin/accounts/apitoken/{revoked.pk}/change/",
                                         {"name": "revived", "user": outsider.pk, "revoked_at_0": "",
                                          "revoked_at_1": "", "scopes": list(TokenScope.ALL)})
        assert response.status_code == 403
        token = ApiToken.objects.get()
        assert (token.name, token.user, token.revoked_at, token.scopes) == (
            "old website", revoked.user, revoked.revoked_at, ["patients:read"])

    def test_the_page_shows_the_token_read_only_with_a_revoke_button(self, superuser_client, receptionist):
        token, _key = ApiToken.issue(user=receptionist, name="website")
        page = superuser_client.get(f"/admin/accounts/apitoken/{token.pk}/change/").content.decode()
        assert f"/admin/accounts/apitoken/{token.pk}/revoke/" in page
        assert 'name="name"' not in page and 'name="user"' not in page

    def test_the_revoke_button_revokes(self, superuser_client, receptionist):
        token, key = ApiToken.issue(user=receptionist, name="website")
        response = superuser_client.post(f"/admin/accounts/apitoken/{token.pk}/revoke/")
        assert response.status_code == 302
        token.refresh_from_db()
        assert token.revoked_at is not None and ApiToken.authenticate(key) is None

    def test_revoking_needs_a_post(self, superuser_client, receptionist):
        token, _key = ApiToken.issue(user=receptionist, name="website")
        assert superuser_client.get(f"/admin/accounts/apitoken/{token.pk}/revoke/").status_code == 405
        assert ApiToken.objects.get().revoked_at is None

    def test_a_revoked_token_has_no_button(self, superuser_client, revoked):
        page = superuser_client.get(f"/admin/accounts/apitoken/{revoked.pk}/change/").content.decode()
        assert "/revoke/" not in page

    def test_the_action_revokes_the_selected_tokens_and_keeps_earlier_revocations(
            self, superuser_client, receptionist, revoked):
        live, _key = ApiToken.issue(user=receptionist, name="website")
        superuser_client.post("/admin/accounts/apitoken/", {"action": "revoke_selected",
                                                            "_selected_action": [live.pk, revoked.pk]})
        assert ApiToken.objects.get(pk=live.pk).revoked_at is not None
        assert ApiToken.objects.get(pk=revoked.pk).revoked_at == revoked.revoked_at

    def test_staff_without_the_permission_cannot_revoke(self, client, receptionist, manager):
        token, _key = ApiToken.issue(user=receptionist, name="website")
        manager.is_staff = True
        manager.save()
        client.force_login(manager)
        assert client.post(f"/admin/accounts/apitoken/{token.pk}/revoke/").status_code in (302, 403)
        assert ApiToken.objects.get().revoked_at is None


class TestIssueTokenCommand:
    def run(self, *args: str) -> tuple[str, str]:
        out, err = StringIO(), StringIO()
        call_command("issue_token", *args, stdout=out, stderr=err)
        return out.getvalue(), err.getvalue()

    def test_it_prints_only_the_key_on_stdout(self, receptionist, time_machine):
        time_machine.move_to(NOW, tick=False)
        out, err = self.run("--user", "rita", "--name", "MIS sync", "--scopes", "appointments:write",
                            "tasks:read,cases:read", "--days", "90")
        key = out.strip()
        token = ApiToken.authenticate(key)
        assert token.user == receptionist and token.name == "MIS sync"
        assert token.scopes == ["cases:read", "appointments:write", "tasks:read"]
        assert token.expires_at == NOW + timedelta(days=90)
        assert key not in err and "MIS sync" in err

    def test_without_days_it_never_expires(self, receptionist):
        out, _err = self.run("--user", "rita", "--name", "x", "--scopes", "tasks:read")
        assert ApiToken.authenticate(out.strip()).expires_at is None

    @pytest.mark.parametrize(("args", "message"), [
        (["--user", "nobody", "--name", "x", "--scopes", "tasks:read"], "No user"),
        (["--user", "visitor", "--name", "x", "--scopes", "tasks:read"], "not an active member of staff"),
        (["--user", "rita", "--name", "x", "--scopes", "billing:read"], "Unknown scope"),
        (["--user", "rita", "--name", "x", "--scopes", "tasks:read", "--days", "0"], "--days"),
    ])
    def test_it_refuses_bad_input_and_issues_nothing(self, receptionist, args, message):
        User.objects.create_user("visitor")
        with pytest.raises(CommandError, match=message):
            self.run(*args)
        assert not ApiToken.objects.exists()

    def test_scopes_are_required(self, receptionist):
        with pytest.raises(CommandError):
            self.run("--user", "rita", "--name", "x")
