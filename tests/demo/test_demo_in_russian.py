"""The demo is a Russian clinic: its catalogue, people and their words are Russian, its UTM tags and e-mails
Latin, its summary in the clinic's language; nothing in its free text is medical."""

import re
from random import Random

import pytest
import time_machine
from django.db import transaction
from django.utils import translation

from clinicflow.accounts.models import Role
from clinicflow.clinic.models import Branch, ClinicSettings, ClosedDay, Doctor, Service, Specialty
from clinicflow.demo.people import FATHERS, FEMALE_NAMES, MALE_NAMES, feminine, latin, person_name
from clinicflow.funnel.models import Case, CaseTransition, IntakeQuestion, LostReason, Stage
from clinicflow.inbox.models import Inquiry, Message
from clinicflow.patients.models import Patient
from clinicflow.tasks.models import Task

from .conftest import WEDNESDAY_MORNING, load_demo

CYRILLIC = re.compile(r"^[А-ЯЁа-яё][А-ЯЁа-яё0-9 ,.()«»:;!?\-–—/₽\"]*$")
LATIN_TAG = re.compile(r"^[a-z0-9-]*$")
# Words of illness: the demo models wishes (a doctor, a day), never symptoms or diagnoses.
MEDICAL = ("бол", "диагноз", "температур", "давлени", "анализ", "симптом", "лечени", "кашл", "сып")
FEMALE_FIRST = {name for names in FEMALE_NAMES.values() for name in names}
MALE_FIRST = {name for names in MALE_NAMES.values() for name in names}


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker) -> str:
    with django_db_blocker.unblock(), transaction.atomic():
        with time_machine.travel(WEDNESDAY_MORNING, tick=False):
            output = load_demo()
        yield output
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_the_clinics_language_is_russian(demo):
    assert ClinicSettings.load().default_language == "ru"


@pytest.mark.django_db
def test_branches_catalogue_doctors_and_staff_are_written_in_russian(demo):
    names = [
        *Branch.objects.values_list("name", flat=True), *Branch.objects.values_list("address", flat=True),
        *ClosedDay.objects.values_list("reason", flat=True), *Specialty.objects.values_list("name", flat=True),
        *Service.objects.values_list("name", flat=True), *Doctor.objects.values_list("full_name", flat=True),
    ]
    assert [name for name in names if not CYRILLIC.match(name)] == []
    assert "Москва, Тверская" in names and "Кардиология" in names
    assert all(len(name.split()) == 3 for name in Doctor.objects.values_list("full_name", flat=True))


@pytest.mark.django_db
def test_patients_are_surname_first_with_a_patronymic_for_many(demo):
    names = [name.split() for name in Patient.objects.values_list("full_name", flat=True)]
    assert all(2 <= len(parts) <= 3 and CYRILLIC.match(" ".join(parts)) for parts in names)
    assert all(parts[1] in FEMALE_FIRST | MALE_FIRST for parts in names)
    with_patronymic = sum(len(parts) == 3 for parts in names) / len(names)
    assert 0.45 < with_patronymic < 0.75


@pytest.mark.django_db
def test_surname_first_name_and_patronymic_agree_in_gender(demo):
    for surname, first_name, *patronymic in (n.split() for n in Patient.objects.values_list("full_name", flat=True)):
        female = first_name in FEMALE_FIRST and first_name not in MALE_FIRST
        if patronymic:
            assert patronymic[0].endswith(("вна", "чна")) == female, (surname, first_name, patronymic)
        if surname.endswith(("ов", "ев", "ёв", "ин")):
            assert not female, (surname, first_name)
        if surname.endswith(("ова", "ева", "ёва", "ина", "ская", "цкая")):
            assert female, (surname, first_name)


@pytest.mark.django_db
def test_e_mails_and_utm_tags_stay_latin(demo):
    emails = Patient.objects.exclude(email="").values_list("email", flat=True)
    assert all(email.isascii() and email.split("@")[1].startswith("example.") for email in emails)
    for field in ("utm_source", "utm_medium", "utm_campaign"):
        assert all(LATIN_TAG.match(tag) for tag in Inquiry.objects.values_list(field, flat=True)), field
    assert Inquiry.objects.filter(utm_campaign__in=["kardiolog-msk", "kardiolog-nsk"]).exists()


@pytest.mark.django_db
def test_what_people_wrote_is_russian_and_never_medical(demo):
    texts = [*Message.objects.values_list("body", flat=True), *Task.objects.values_list("title", flat=True),
             *Inquiry.objects.exclude(preferred_time="").values_list("preferred_time", flat=True),
             *CaseTransition.objects.exclude(reason="").values_list("reason", flat=True)]
    # A lost reason's list name is the catalogue's (Russian once translated); the desk's own words follow it.
    with translation.override("ru"):
        listed = {reason.label for reason in LostReason.objects.all()}
    texts = [words for text in texts if (words := text.split(": ", 1)[-1]) not in listed]
    assert [text for text in texts if not re.search("[А-ЯЁа-яё]", text)] == []
    assert [text for text in texts if any(word in text.lower() for word in MEDICAL)] == []


@pytest.mark.django_db
def test_task_titles_name_no_patient(demo):
    for task in Task.objects.filter(patient__isnull=False).select_related("patient"):
        assert task.patient.full_name.split()[0] not in task.title


@pytest.mark.django_db
def test_lost_cases_carry_a_reason_from_the_clinics_list(demo):
    lost = Case.objects.filter(stage=Stage.LOST).select_related("listed_lost_reason")
    assert lost.exists() and not lost.filter(listed_lost_reason__isnull=True).exists()
    with translation.override("ru"):
        assert all(case.lost_reason.startswith(case.listed_lost_reason.label) for case in lost)
    junk = Inquiry.objects.filter(status=Inquiry.Status.CLOSED, first_response_at__isnull=True)
    assert junk.exists()
    assert set(junk.values_list("case__listed_lost_reason__closes_fresh_case", flat=True)) == {True}


@pytest.mark.django_db
def test_intake_answers_are_the_clinics_russian_ones(demo):
    visit_type = IntakeQuestion.objects.get(key="visit_type")
    assert visit_type.choices == ["Первичный", "Повторный"]
    assert CYRILLIC.match(visit_type.label)
    answers = set(Case.objects.exclude(intake={}).values_list("intake__visit_type", flat=True))
    assert answers == {"Первичный", "Повторный"}


@pytest.mark.django_db
def test_the_summary_and_log_ins_are_printed_in_the_clinics_language(demo):
    with translation.override("ru"):
        assert str(Stage.LOST.label) in demo
        assert f"reception / reception-demo  ({Role.RECEPTIONIST.label} · Москва, Тверская)" in demo
    assert "Новосибирск, Ленина (Asia/Novosibirsk)" in demo


@pytest.mark.parametrize(("male", "female"), [("Иванов", "Иванова"), ("Соловьёв", "Соловьёва"), ("Ильин", "Ильина"),
                                              ("Лисицкий", "Лисицкая"), ("Островский", "Островская"),
                                              ("Толстой", "Толстая"), ("Шевченко", "Шевченко"), ("Черных", "Черных"),
                                              ("Ковальчук", "Ковальчук")])
def test_a_womans_surname_takes_the_feminine_form(male, female):
    assert feminine(male) == female


def test_names_are_spelt_in_latin_letters_for_e_mail():
    assert latin("Щербакова") == "shcherbakova"
    assert latin("Соловьёв") == "solovev"
    assert latin("Юлия") == "yuliya"


def test_a_patronymic_follows_the_persons_gender():
    rng = Random(1)
    for _ in range(200):
        name, female = person_name(rng, 1970)
        parts = name.split()
        if len(parts) == 3:
            assert parts[2] in {f[2] if female else f[1] for f in FATHERS}
