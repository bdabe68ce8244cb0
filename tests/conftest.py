"""Shared fixtures: a clinic with two branches in different zones, and staff personas.

Personas (as in the spec of every access rule): a receptionist of the Moscow branch, a receptionist
of the Novosibirsk branch (an outsider to Moscow's patients), a front-office manager, a clinic admin.
"""

import os
from datetime import time
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, User

from clinicflow.accounts.models import ApiToken, Role, StaffMember
from clinicflow.clinic.models import Branch, Doctor, Service, Specialty, WorkingHours
from clinicflow.patients.models import Patient
from clinicflow.patients.services import patient_resolve

REQUIRED = {m.strip() for m in os.getenv("CLINICFLOW_REQUIRE", "").split(",") if m.strip()}


def pytest_configure(config):
    """A test database of our own per run, so that parallel runs on one PostgreSQL never collide."""
    from django.conf import settings

    default = settings.DATABASES["default"]
    if default["ENGINE"].endswith("postgresql"):
        default.setdefault("TEST", {})["NAME"] = f"test_{default['NAME']}_{os.getpid()}"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "browser" in item.keywords or "e2e" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With CLINICFLOW_REQUIRE=postgres,browser a skip of those tests is a failure, not a silent pass."""
    outcome = yield
    report = outcome.get_result()
    # An expected failure (xfail) is reported as a skip too, but the test did run: it is not a skip here.
    if report.skipped and not hasattr(report, "wasxfail") and REQUIRED & set(item.keywords):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"required test was skipped (CLINICFLOW_REQUIRE={','.join(sorted(REQUIRED))}): {reason}"


# The data migrations' own functions (all get_or_create). Add each new data migration here.
DATA_MIGRATIONS = [
    ("clinicflow.accounts.migrations.0002_roles", "create_role_groups"),
    ("clinicflow.accounts.migrations.0003_marketer_and_compliance_roles", "create_role_groups"),
    ("clinicflow.funnel.migrations.0002_intake_questions", "create_default_script"),
    ("clinicflow.funnel.migrations.0005_lost_reasons", "create_default_reasons"),
    ("clinicflow.messaging.migrations.0002_default_templates", "create_default_templates"),
    ("clinicflow.robots.migrations.0002_builtin_robots", "create_builtin_robots"),
]


@pytest.fixture(autouse=True)
def migration_data(request):
    """Put back the rows data migrations create (role groups, the default intake script).

    A transactional test flushes every table when it ends, so the next one would start without them.
    Django's serialized rollback would restore them too, but it collides with content types that come
    back with new ids once a non-serialized transactional test has flushed the database first.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = {"transactional_db", "live_server"} & set(request.fixturenames) or (
        marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
    if not transactional:
        return
    request.getfixturevalue("transactional_db")
    for module, function in DATA_MIGRATIONS:
        getattr(import_module(module), function)(django_apps, None)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2 is slow by design; tests create many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_clinic_cache():
    """Each test starts without the process's copies of clinic settings and calendars: the rows a previous test
    cached were rolled back (and SQLite reuses their ids)."""
    from clinicflow.clinic.cache import clinic_cache_clear

    clinic_cache_clear()
    yield
    clinic_cache_clear()


def open_all_week(branch: Branch, opens=time(9), closes=time(18), breaks=(time(13), time(14)), days=range(5)):
    for weekday in days:
        WorkingHours.objects.create(branch=branch, weekday=weekday, opens=opens, closes=closes,
                                    break_starts=breaks[0] if breaks else None,
                                    break_ends=breaks[1] if breaks else None)


@pytest.fixture
def moscow(db) -> Branch:
    branch = Branch.objects.create(name="Moscow, Tverskaya", time_zone="Europe/Moscow", address="Tverskaya 1")
    open_all_week(branch)
    return branch


@pytest.fixture
def novosibirsk(db) -> Branch:
    branch = Branch.objects.create(name="Novosibirsk, Lenina", time_zone="Asia/Novosibirsk")
    open_all_week(branch)
    return branch


@pytest.fixture
def cardiology(db) -> Specialty:
    return Specialty.objects.create(name="Cardiology")


@pytest.fixture
def consultation(cardiology) -> Service:
    return Service.objects.create(name="Cardiologist consultation", specialty=cardiology, duration_minutes=30)


@pytest.fixture
def doctor(moscow, cardiology) -> Doctor:
    doctor = Doctor.objects.create(full_name="Dr. Anna Petrova")
    doctor.specialties.add(cardiology)
    doctor.branches.add(moscow)
    return doctor


@pytest.fixture
def ivan(moscow) -> Patient:
    """A patient of the Moscow branch."""
    patient, _created = patient_resolve(branch=moscow, phone="+7 916 123-45-67", full_name="Ivan Petrov")
    return patient


@pytest.fixture
def nina(novosibirsk) -> Patient:
    """A patient of the Novosibirsk branch."""
    patient, _created = patient_resolve(branch=novosibirsk, phone="+7 923 765-43-21", full_name="Nina Sokolova")
    return patient


def make_staff(username: str, role: str, branches=()) -> User:
    user = User.objects.create_user(username, password="pass-" + username, first_name=username.title())
    user.groups.add(Group.objects.get(name=role))
    StaffMember.objects.create(user=user).branches.set(branches)
    return user


@pytest.fixture
def receptionist(moscow) -> User:
    return make_staff("rita", Role.RECEPTIONIST, [moscow])


@pytest.fixture
def outsider(novosibirsk) -> User:
    """A receptionist of another branch."""
    return make_staff("oleg", Role.RECEPTIONIST, [novosibirsk])


@pytest.fixture
def manager(moscow) -> User:
    return make_staff("maria", Role.FRONT_OFFICE_MANAGER, [moscow])


@pytest.fixture
def clinic_admin(db) -> User:
    return make_staff("adam", Role.CLINIC_ADMIN)


@pytest.fixture
def plain_user(django_user_model):
    """Someone with a login who is not clinic staff (no role)."""
    return django_user_model.objects.create_user("visitor", password="pass-visitor")


@pytest.fixture
def rita_client(client, receptionist):
    client.force_login(receptionist)
    return client


@pytest.fixture
def token(receptionist) -> str:
    _token, key = ApiToken.issue(user=receptionist, name="website")
    return key


@pytest.fixture
def auth(token) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def bearer():
    """Issue a token for a user and return the request header that carries it."""

    def bearer(user) -> dict:
        _token, key = ApiToken.issue(user=user, name=f"{user.username}'s integration")
        return {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    return bearer


@pytest.fixture(autouse=True)
def english_clinic(monkeypatch):
    """The suite's pages speak English: a new clinic's default is Russian, and the tests read English.

    tests/i18n undoes this where the clinic's default is the subject.
    """
    monkeypatch.setattr("clinicflow.accounts.middleware.clinic_default_language", lambda: "en")
