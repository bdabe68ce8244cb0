"""The demo clinic itself: two branches in different time zones, its catalogue, doctors and staff."""

from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal

from django.contrib.auth.models import Group, User

from clinicflow.accounts.models import Role, StaffMember
from clinicflow.clinic.calendar import BranchCalendar
from clinicflow.clinic.models import Branch, ClinicSettings, ClosedDay, Doctor, Service, Specialty, WorkingHours
from clinicflow.funnel.models import IntakeQuestion
from clinicflow.scheduling.models import DoctorHours

MOSCOW, NOVOSIBIRSK = 0, 1
BRANCHES = [
    # name, time zone, address, front-desk phone, the city as the marketers' UTM tags spell it
    ("Москва, Тверская", "Europe/Moscow", "ул. Тверская, д. 18, корп. 1, Москва", "+7 495 150-42-17", "msk"),
    ("Новосибирск, Ленина", "Asia/Novosibirsk", "ул. Ленина, д. 21, Новосибирск", "+7 383 209-31-55", "nsk"),
]
WEEKDAY_HOURS = (time(8), time(20), time(14), time(14, 30))
SATURDAY_HOURS = (time(9), time(15), None, None)
# The clinic's language: its staff see the interface in it and its people write in it.
LANGUAGE = "ru"

SPECIALTIES = {
    # name: (as the marketers' UTM tags spell it, to whom a patient wants to go: «записаться к …»)
    "Терапия": ("terapevt", "к терапевту"),
    "Кардиология": ("kardiolog", "к кардиологу"),
    "Неврология": ("nevrolog", "к неврологу"),
    "Гинекология": ("ginekolog", "к гинекологу"),
    "Урология": ("urolog", "к урологу"),
    "Дерматология": ("dermatolog", "к дерматологу"),
    "Косметология": ("kosmetolog", "к косметологу"),
    "Оториноларингология": ("lor", "к ЛОРу"),
    "Эндокринология": ("endokrinolog", "к эндокринологу"),
    "Гастроэнтерология": ("gastroenterolog", "к гастроэнтерологу"),
}
SERVICES = [
    # name as the price list says it, specialty, minutes, price in RUB
    ("Приём терапевта (первичный)", "Терапия", 30, 2500),
    ("Консультация кардиолога (первичная)", "Кардиология", 30, 3500),
    ("ЭКГ с расшифровкой", "Кардиология", 30, 1800),
    ("Консультация невролога (первичная)", "Неврология", 30, 3600),
    ("Консультация гинеколога (первичная)", "Гинекология", 30, 3200),
    ("УЗИ органов малого таза", "Гинекология", 30, 2900),
    ("Консультация уролога (первичная)", "Урология", 30, 3100),
    ("Консультация дерматолога с дерматоскопией", "Дерматология", 30, 3400),
    ("Химический пилинг лица", "Косметология", 60, 5500),
    ("Приём оториноларинголога (ЛОР)", "Оториноларингология", 30, 2800),
    ("Консультация эндокринолога (первичная)", "Эндокринология", 30, 3400),
    ("Консультация гастроэнтеролога (первичная)", "Гастроэнтерология", 45, 3600),
]
DOCTORS = [
    # full name (surname, name, patronymic), branch, specialties
    ("Соколова Елена Викторовна", MOSCOW, ["Кардиология", "Терапия"]),
    ("Волков Дмитрий Андреевич", MOSCOW, ["Неврология"]),
    ("Морозова Ирина Павловна", MOSCOW, ["Гинекология"]),
    ("Кузнецова Ольга Игоревна", MOSCOW, ["Дерматология", "Косметология"]),
    ("Новиков Андрей Николаевич", NOVOSIBIRSK, ["Терапия", "Гастроэнтерология"]),
    ("Фёдорова Наталья Сергеевна", NOVOSIBIRSK, ["Эндокринология", "Кардиология"]),
    ("Смирнов Павел Олегович", NOVOSIBIRSK, ["Оториноларингология"]),
    ("Лебедев Сергей Михайлович", NOVOSIBIRSK, ["Урология"]),
]
STAFF = [
    # username (Latin: typed at log-in on any keyboard), first name, last name, role, branches
    ("reception", "Юлия", "Орлова", Role.RECEPTIONIST, [MOSCOW]),
    ("reception-nsk", "Ксения", "Белова", Role.RECEPTIONIST, [NOVOSIBIRSK]),
    ("manager", "Марина", "Ковалёва", Role.FRONT_OFFICE_MANAGER, [MOSCOW, NOVOSIBIRSK]),
    ("admin", "Алексей", "Зайцев", Role.CLINIC_ADMIN, []),
    ("marketing", "Дарья", "Соколова", Role.MARKETER, []),
    ("compliance", "Игорь", "Васильев", Role.COMPLIANCE_OFFICER, []),
]
# The clinic's own intake script, in its language: key → (question, answers to choose from).
INTAKE_SCRIPT = {
    "specialty": ("Какой специалист нужен пациенту?", []),
    "doctor": ("Желаемый врач", []),
    "time_window": ("Удобные дата и время", []),
    "visit_type": ("Пациент первичный или повторный?", ["Первичный", "Повторный"]),
}
USERNAMES = [row[0] for row in STAFF]


def demo_password(username: str) -> str:
    return f"{username}-demo"


@dataclass
class Clinic:
    branches: list[Branch]
    services: dict[int, list[Service]]  # branch id -> services some doctor of the branch provides
    doctors: dict[tuple[int, int], list[Doctor]]  # (branch id, specialty id) -> doctors
    staff: dict[str, User]
    calendars: dict[int, BranchCalendar]

    def receptionist(self, branch: Branch) -> User:
        return self.staff["reception" if branch.pk == self.branches[MOSCOW].pk else "reception-nsk"]

    @property
    def manager(self) -> User:
        return self.staff["manager"]


def clinic_create(today: date) -> Clinic:
    branches = [_branch(row, index, today) for index, row in enumerate(BRANCHES)]
    # Website inquiries that name no branch go to the default one (with several branches there must be one).
    ClinicSettings.objects.update_or_create(pk=1, defaults={"default_branch": branches[0],
                                                             "default_language": LANGUAGE,
                                                             "widget_offers_slots": True})
    _intake_script()
    specialties = {name: Specialty.objects.create(name=name) for name in sorted(SPECIALTIES)}
    services = [Service.objects.create(name=name, specialty=specialties[specialty], duration_minutes=minutes,
                                       price=Decimal(price)) for name, specialty, minutes, price in SERVICES]
    doctors = _doctors(branches, specialties)
    offered = {branch.pk: [s for s in services if (branch.pk, s.specialty_id) in doctors] for branch in branches}
    return Clinic(branches=branches, services=offered, doctors=doctors, staff=_staff(branches),
                  calendars={branch.pk: branch.calendar() for branch in branches})


def _branch(row: tuple, index: int, today: date) -> Branch:
    name, zone, address, phone, _utm_city = row
    branch = Branch.objects.create(name=name, time_zone=zone, address=address, phone=phone, holiday_country="RU")
    for weekday in range(6):
        opens, closes, break_starts, break_ends = SATURDAY_HOURS if weekday == 5 else WEEKDAY_HOURS
        WorkingHours.objects.create(branch=branch, weekday=weekday, opens=opens, closes=closes,
                                    break_starts=break_starts, break_ends=break_ends)
    # Moscow had a sanitary day five weeks ago; Novosibirsk closes for staff training in two weeks.
    closed, reason = (today - timedelta(weeks=5), "Санитарный день") if index == MOSCOW else (
        today + timedelta(weeks=2), "Обучение персонала")
    ClosedDay.objects.create(branch=branch, date=closed - timedelta(days=closed.weekday() - 2), reason=reason)
    return branch


def _intake_script() -> None:
    """The questions the clinic asks when qualifying an inquiry, worded by the clinic itself (stored text)."""
    for question in IntakeQuestion.objects.filter(key__in=INTAKE_SCRIPT):
        question.label, choices = INTAKE_SCRIPT[question.key]
        question.choices = choices or question.choices
        question.save(update_fields=["label", "choices"])


def _doctors(branches: list[Branch], specialties: dict[str, Specialty]) -> dict[tuple[int, int], list[Doctor]]:
    by_branch_specialty: dict[tuple[int, int], list[Doctor]] = {}
    for full_name, branch_index, names in DOCTORS:
        doctor = Doctor.objects.create(full_name=full_name)
        doctor.branches.add(branches[branch_index])
        _local_schedule(doctor, branches[branch_index])
        doctor.specialties.add(*[specialties[name] for name in names])
        for name in names:
            by_branch_specialty.setdefault((branches[branch_index].pk, specialties[name].pk), []).append(doctor)
    return by_branch_specialty


def _local_schedule(doctor: Doctor, branch: Branch) -> None:
    """The demo has no MIS: each doctor sees patients whenever the branch is open (the history's visits were
    placed in those hours), so the schedule screen and the widget offer the doctor's real free time."""
    for weekday in range(6):
        opens, closes, _break_starts, _break_ends = SATURDAY_HOURS if weekday == 5 else WEEKDAY_HOURS
        DoctorHours.objects.create(doctor=doctor, branch=branch, weekday=weekday, starts=opens, ends=closes)


def _staff(branches: list[Branch]) -> dict[str, User]:
    users = {}
    for username, first_name, last_name, role, branch_indexes in STAFF:
        is_admin = role == Role.CLINIC_ADMIN
        # The clinic admin may also open Django's admin site to edit the catalogue.
        user = User.objects.create_user(username, password=demo_password(username), first_name=first_name,
                                        last_name=last_name, is_staff=is_admin, is_superuser=is_admin)
        user.groups.add(Group.objects.get(name=role))
        StaffMember.objects.create(user=user).branches.set([branches[i] for i in branch_indexes])
        users[username] = user
    return users
