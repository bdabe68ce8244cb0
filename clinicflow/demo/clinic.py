"""The demo clinic itself: two branches in different time zones, its catalogue, doctors and staff."""

from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal

from django.contrib.auth.models import Group, User

from clinicflow.accounts.models import Role, StaffMember
from clinicflow.clinic.calendar import BranchCalendar
from clinicflow.clinic.models import Branch, ClinicSettings, ClosedDay, Doctor, Service, Specialty, WorkingHours

MOSCOW, NOVOSIBIRSK = 0, 1
BRANCHES = [
    # name, time zone, address, front-desk phone
    ("Moscow, Tverskaya", "Europe/Moscow", "Tverskaya St. 18, bldg. 1, Moscow", "+7 495 150-42-17"),
    ("Novosibirsk, Krasny prospekt", "Asia/Novosibirsk", "Krasny prospekt 77, Novosibirsk", "+7 383 209-31-55"),
]
WEEKDAY_HOURS = (time(8), time(20), time(14), time(14, 30))
SATURDAY_HOURS = (time(9), time(15), None, None)

SERVICES = [
    # name, specialty, minutes, price in RUB
    ("General practitioner consultation", "General practice", 30, 2500),
    ("Cardiologist consultation", "Cardiology", 30, 3500),
    ("ECG with interpretation", "Cardiology", 30, 1800),
    ("Neurologist consultation", "Neurology", 30, 3600),
    ("Gynecologist consultation", "Gynecology", 30, 3200),
    ("Pelvic ultrasound", "Gynecology", 30, 2900),
    ("Urologist consultation", "Urology", 30, 3100),
    ("Dermatologist consultation with dermatoscopy", "Dermatology", 30, 3400),
    ("Chemical facial peel", "Cosmetology", 60, 5500),
    ("ENT consultation", "Otolaryngology", 30, 2800),
    ("Endocrinologist consultation", "Endocrinology", 30, 3400),
    ("Gastroenterologist consultation", "Gastroenterology", 45, 3600),
]
DOCTORS = [
    # full name, branch, specialties
    ("Dr. Elena Sokolova", MOSCOW, ["Cardiology", "General practice"]),
    ("Dr. Dmitry Volkov", MOSCOW, ["Neurology"]),
    ("Dr. Irina Morozova", MOSCOW, ["Gynecology"]),
    ("Dr. Olga Kuznetsova", MOSCOW, ["Dermatology", "Cosmetology"]),
    ("Dr. Andrey Novikov", NOVOSIBIRSK, ["General practice", "Gastroenterology"]),
    ("Dr. Natalia Fedorova", NOVOSIBIRSK, ["Endocrinology", "Cardiology"]),
    ("Dr. Pavel Smirnov", NOVOSIBIRSK, ["Otolaryngology"]),
    ("Dr. Sergey Lebedev", NOVOSIBIRSK, ["Urology"]),
]
STAFF = [
    # username, first name, last name, role, branches
    ("reception", "Yulia", "Orlova", Role.RECEPTIONIST, [MOSCOW]),
    ("reception-nsk", "Ksenia", "Belova", Role.RECEPTIONIST, [NOVOSIBIRSK]),
    ("manager", "Marina", "Kovaleva", Role.FRONT_OFFICE_MANAGER, [MOSCOW, NOVOSIBIRSK]),
    ("admin", "Alexey", "Zaitsev", Role.CLINIC_ADMIN, []),
    ("marketing", "Daria", "Sokolova", Role.MARKETER, []),
    ("compliance", "Igor", "Vasiliev", Role.COMPLIANCE_OFFICER, []),
]
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
    ClinicSettings.objects.update_or_create(pk=1, defaults={"default_branch": branches[0]})
    specialties = {name: Specialty.objects.create(name=name) for name in sorted({row[1] for row in SERVICES})}
    services = [Service.objects.create(name=name, specialty=specialties[specialty], duration_minutes=minutes,
                                       price=Decimal(price)) for name, specialty, minutes, price in SERVICES]
    doctors = _doctors(branches, specialties)
    offered = {branch.pk: [s for s in services if (branch.pk, s.specialty_id) in doctors] for branch in branches}
    return Clinic(branches=branches, services=offered, doctors=doctors, staff=_staff(branches),
                  calendars={branch.pk: branch.calendar() for branch in branches})


def _branch(row: tuple, index: int, today: date) -> Branch:
    name, zone, address, phone = row
    branch = Branch.objects.create(name=name, time_zone=zone, address=address, phone=phone, holiday_country="RU")
    for weekday in range(6):
        opens, closes, break_starts, break_ends = SATURDAY_HOURS if weekday == 5 else WEEKDAY_HOURS
        WorkingHours.objects.create(branch=branch, weekday=weekday, opens=opens, closes=closes,
                                    break_starts=break_starts, break_ends=break_ends)
    # Moscow had a sanitary day five weeks ago; Novosibirsk closes for staff training in two weeks.
    closed, reason = (today - timedelta(weeks=5), "Sanitary day") if index == MOSCOW else (
        today + timedelta(weeks=2), "Staff training")
    ClosedDay.objects.create(branch=branch, date=closed - timedelta(days=closed.weekday() - 2), reason=reason)
    return branch


def _doctors(branches: list[Branch], specialties: dict[str, Specialty]) -> dict[tuple[int, int], list[Doctor]]:
    by_branch_specialty: dict[tuple[int, int], list[Doctor]] = {}
    for full_name, branch_index, names in DOCTORS:
        doctor = Doctor.objects.create(full_name=full_name)
        doctor.branches.add(branches[branch_index])
        doctor.specialties.add(*[specialties[name] for name in names])
        for name in names:
            by_branch_specialty.setdefault((branches[branch_index].pk, specialties[name].pk), []).append(doctor)
    return by_branch_specialty


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
