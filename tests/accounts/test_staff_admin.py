"""Settings → Users: onboarding a member of staff in one form (name, log-in, role, branches, first log-in)."""

import re

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from clinicflow.accounts.models import Role, user_branch_ids
from clinicflow.clinic.models import Branch
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db
ADD = "/admin/auth/user/add/"


@pytest.fixture
def root_client(client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def new_staff(branches=(), **overrides) -> dict:
    return {"first_name": "Olga", "last_name": "Ivanova", "username": "olga", "role": Role.RECEPTIONIST,
            "branches": [b.pk for b in branches], "access": "invite", **overrides}


class TestOnboarding:
    def test_the_form_asks_for_role_and_branches_not_for_permissions(self, root_client, moscow):
        page = root_client.get(ADD).content.decode()
        for name in ("first_name", "last_name", "username", "role", "branches", "access", "password1"):
            assert f'name="{name}"' in page, name
        assert 'name="user_permissions"' not in page and 'name="groups"' not in page
        assert "Front-office manager" in page and "front_office_manager</label>" not in page

    def test_an_invitation_link_is_shown_once_and_sets_the_password_once(self, root_client, moscow):
        response = root_client.post(ADD, new_staff([moscow]))
        assert response.status_code == 200
        link = response.context["link"]
        assert "no-store" in response.headers["Cache-Control"]
        olga = User.objects.get(username="olga")
        assert not olga.has_usable_password()
        assert olga.get_full_name() == "Olga Ivanova" and olga.groups.get().name == Role.RECEPTIONIST
        assert user_branch_ids(olga) == {moscow.pk} and not olga.is_staff

        visitor = Client()
        form_page = visitor.get(link, follow=True)
        assert form_page.status_code == 200 and form_page.context["validlink"]
        set_url = form_page.redirect_chain[-1][0]
        done = visitor.post(set_url, {"new_password1": "a long fresh passphrase 7",
                                      "new_password2": "a long fresh passphrase 7"})
        assert done.status_code == 302
        olga.refresh_from_db()
        assert olga.check_password("a long fresh passphrase 7")
        assert Client().get(link, follow=True).context["validlink"] is False  # once only

    def test_an_invitation_link_runs_out(self, client, moscow, time_machine):
        time_machine.move_to("2026-12-01 10:00", tick=False)
        client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
        link = client.post(ADD, new_staff([moscow])).context["link"]
        time_machine.move_to("2026-12-05 10:00", tick=False)  # PASSWORD_RESET_TIMEOUT: 3 days
        assert Client().get(link, follow=True).context["validlink"] is False

    def test_an_initial_password_works_at_once(self, root_client, moscow):
        response = root_client.post(ADD, new_staff([moscow], access="password", password1="a long fresh passphrase 7",
                                                   password2="a long fresh passphrase 7"))
        assert response.status_code == 302
        assert User.objects.get(username="olga").check_password("a long fresh passphrase 7")

    @pytest.mark.parametrize(("fields", "field"), [
        ({"access": "password", "password1": "", "password2": ""}, "password1"),
        ({"access": "password", "password1": "a long fresh passphrase 7", "password2": "another one 8"}, "password2"),
        ({"access": "password", "password1": "olga", "password2": "olga"}, "password1"),
        ({"branches": []}, "branches"),
        ({"role": "superuser"}, "role"),
        ({"first_name": ""}, "first_name"),
    ])
    def test_it_refuses_a_half_filled_form_on_the_field(self, root_client, moscow, fields, field):
        response = root_client.post(ADD, {**new_staff([moscow]), **fields})
        assert response.status_code == 200
        assert field in response.context["adminform"].form.errors
        assert not User.objects.filter(username="olga").exists()

    def test_a_taken_log_in_is_refused(self, root_client, moscow, receptionist):
        response = root_client.post(ADD, new_staff([moscow], username=receptionist.username))
        assert "username" in response.context["adminform"].form.errors

    def test_a_clinic_admin_needs_no_branch_and_gets_settings(self, root_client):
        root_client.post(ADD, new_staff(role=Role.CLINIC_ADMIN))
        olga = User.objects.get(username="olga")
        assert olga.is_staff and user_branch_ids(olga) is None


class TestEditing:
    def test_the_page_shows_role_and_branches_not_the_permission_list(self, root_client, receptionist):
        page = root_client.get(f"/admin/auth/user/{receptionist.pk}/change/").content.decode()
        assert 'name="role"' in page and 'name="branches"' in page
        assert 'name="user_permissions"' not in page and 'name="is_superuser"' not in page
        assert "?full=1" in page

    def test_a_superuser_still_reaches_the_full_user_form(self, root_client, receptionist):
        page = root_client.get(f"/admin/auth/user/{receptionist.pk}/change/?full=1").content.decode()
        assert 'name="user_permissions"' in page and 'name="is_superuser"' in page

    def test_changing_the_role_changes_settings_access_and_branches(self, root_client, receptionist, moscow,
                                                                    novosibirsk):
        response = root_client.post(f"/admin/auth/user/{receptionist.pk}/change/", {
            "first_name": "Rita", "last_name": "R", "username": receptionist.username, "is_active": "on",
            "role": Role.CLINIC_ADMIN, "branches": [novosibirsk.pk]})
        assert response.status_code == 302, response.context["adminform"].form.errors
        receptionist.refresh_from_db()
        assert receptionist.is_staff
        assert list(receptionist.groups.values_list("name", flat=True)) == [Role.CLINIC_ADMIN]
        assert list(receptionist.staff.branches.all()) == [novosibirsk]

    def test_the_list_shows_roles_in_words(self, root_client, receptionist):
        page = root_client.get("/admin/auth/user/").content.decode()
        assert re.search(r">Receptionist<", page)


class TestSettingsFollowTheRole:
    def test_a_clinic_admin_edits_reference_data(self, moscow):
        admin_user = make_staff("alla", Role.CLINIC_ADMIN)
        admin_user.is_staff = True
        admin_user.save()
        client = Client()
        client.force_login(admin_user)
        assert client.get("/admin/clinic/branch/").status_code == 200
        assert client.get("/admin/clinic/service/add/").status_code == 200
        assert client.get("/admin/funnel/intakequestion/").status_code == 200
        assert client.get(f"/admin/clinic/branch/{moscow.pk}/delete/").status_code == 403

    def test_a_clinic_admin_does_not_manage_users_or_tokens(self):
        admin_user = make_staff("alla", Role.CLINIC_ADMIN)
        admin_user.is_staff = True
        admin_user.save()
        client = Client()
        client.force_login(admin_user)
        assert client.get("/admin/auth/user/").status_code == 403
        assert client.get("/admin/accounts/apitoken/").status_code == 403

    @pytest.mark.parametrize("role", [Role.RECEPTIONIST, Role.FRONT_OFFICE_MANAGER, Role.MARKETER,
                                      Role.COMPLIANCE_OFFICER])
    def test_other_roles_have_no_settings_permission(self, role):
        user = make_staff("someone", role, branches=[Branch.objects.create(name="Kazan")])
        assert not user.has_perm("clinic.change_branch") and not user.has_module_perms("clinic")


def test_a_view_only_visitor_sees_role_and_branches_in_words(receptionist, manager):
    manager.is_staff = True
    manager.save()
    manager.user_permissions.add(Permission.objects.get(codename="view_user"))
    client = Client()
    client.force_login(manager)
    page = client.get(f"/admin/auth/user/{receptionist.pk}/change/").content.decode()
    assert "Receptionist" in page and "Moscow, Tverskaya" in page and 'name="role"' not in page
