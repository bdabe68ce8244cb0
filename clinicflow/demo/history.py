"""Ninety days of the demo clinic's life: patients, inquiries, cases, appointments and tasks.

The demo is data, not a workflow. Calling the services once per event would take minutes, so the rows
are built in memory with explicit timestamps and written with bulk_create. They keep the rules the
services keep: phones in E.164, a service consent per patient, every stage change allowed by the funnel
and recorded as a transition, one open case per patient, one booking per doctor's slot. Each patient's
story is followed event by event up to `now`; whatever would happen later is left undone, which is what
puts cases in every stage and a few inquiries in the live queue.

The clinic is Russian, and so is what its people wrote: messages, notes, task titles and the words
they add to a reason are Russian text (data, not interface). What the product itself writes (a lost
reason from the clinic's list, "Closed: …", "Appointment booked", an escalation's title) is the same
translated string its services write, in the language active while the story is written (the clinic's).
"""

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from random import Random

from django.conf import settings
from django.utils.translation import gettext

from clinicflow.accounts.models import Role
from clinicflow.automation.models import Job
from clinicflow.clinic.models import Branch, Service
from clinicflow.compliance.models import Consent
from clinicflow.funnel.models import Case, CaseTransition, LostReason, Source, Stage
from clinicflow.funnel.services import mis_is_connected, refusal_reason
from clinicflow.inbox.models import Inquiry, Message
from clinicflow.inbox.services import ESCALATE_JOB, response_due
from clinicflow.patients.models import Channel, Patient, PatientIdentity
from clinicflow.scheduling.models import Appointment
from clinicflow.tasks.models import Task

from .clinic import BRANCHES, INTAKE_SCRIPT, MOSCOW, SPECIALTIES, Clinic
from .people import email_address, mobile_phone, person_name

DAYS = 90
NO_SHOW_SHARE = 0.19
SLOT = timedelta(minutes=30)
CONSENT_TEXT_VERSION = "2025-03"
CHANNEL_WEIGHTS = {Channel.PHONE: 34, Channel.WEB: 30, Channel.WHATSAPP: 15, Channel.TELEGRAM: 13, Channel.VK: 8}
# How likely an inquiry is at each local hour: mostly office hours, some evenings, few nights.
HOUR_WEIGHTS = [0.04] * 6 + [0.1, 0.35, 0.8, 1, 1, 1, 1, 0.9, 1, 1, 1, 1, 0.85, 0.7, 0.55, 0.45, 0.3, 0.12]
WEB_SOURCES = [
    # utm_source, utm_medium, utm_campaign, referrer, weight
    ("yandex", "cpc", "{specialty}-{city}", "https://yandex.ru/", 35),
    ("google", "cpc", "brand-{city}", "https://www.google.com/", 10),
    ("instagram", "social", "checkup-promo", "https://l.instagram.com/", 10),
    ("2gis", "referral", "2gis-card-{city}", "https://2gis.ru/", 10),
    ("vk", "social", "vk-ads-{specialty}", "https://vk.com/", 10),
    ("", "", "", "https://yandex.ru/", 18),  # organic search
    ("", "", "", "", 7),  # typed the address
]
# What patients write: what they want and when, never why (no symptoms: the product stores no medical data).
ASKS = ["Здравствуйте! Хочу записаться {to_doctor} на следующей неделе.",
        "Добрый день! Сколько стоит {service}? Есть свободное время в субботу?",
        "Можно записаться {to_doctor} на этой неделе после 18:00?",
        "Здравствуйте, перезвоните мне, пожалуйста. Хочу записаться {to_doctor}.",
        "Есть завтра утром запись {to_doctor}?",
        "Записаться {to_doctor} на {weekday}",
        "Добрый день! На сайте {service} стоит {price} ₽, цена актуальна?"]
WEEKDAYS = ["понедельник", "вторник", "среду", "четверг", "пятницу", "субботу"]  # «на …»
# What the receptionist notes of an incoming call ({a}: the feminine ending of the verb).
CALLS = ["Входящий звонок: уточнял{a} цену и свободное время, {service}.",
         "Входящий звонок: хочет записаться {to_doctor}."]
REPLIES = ["Добрый день! Спасибо, что написали нам. Сейчас подберу для вас удобное время.",
           "Здравствуйте! Да, на этой неделе есть свободное время. Какой день вам удобен?",
           "Здравствуйте! Цена актуальна. Записать вас?"]
CALL_REPLIES = ["Поговорили по телефону, обсудили запись.", "Перезвонили, обсудили запись."]
PREFERRED_TIMES = ["", "", "в будни вечером", "в субботу утром", "в любой день на следующей неделе", "до 10:00"]
# Reasons from the clinic's list (funnel.DEFAULT_LOST_REASONS, by their stored names), with the words the
# receptionist sometimes adds.
LOST_REASONS = [("Too expensive", ["", "", "в другой клинике дешевле"]),
                ("Chose another clinic", ["", "ближе к дому", "есть полис ДМС в другой клинике"]),
                ("No convenient time", ["", "нужно только в выходные", "нужен приём после 20:00"]),
                ("Changed their mind", ["", "пойдёт в поликлинику по ОМС"]),
                ("No answer", ["не берёт трубку"])]
MISSED_LOST_REASONS = [("No answer", ["два звонка без ответа"]),
                       ("Changed their mind", ["перезвонит сам{a}, когда будет удобно", "переезжает в другой город"])]
JUNK_REASONS = [("Spam", ["", "реклама услуг"]), ("Duplicate", ["уже написал{a} в WhatsApp", ""])]


@dataclass
class Person:
    """A patient while the story is written, with what the story needs to remember about them."""

    patient: Patient
    phone: str
    female: bool
    channel: str = ""  # of the inquiry that opened the current journey
    channels: set[str] = field(default_factory=set)
    visits: list[datetime] = field(default_factory=list)  # starts of completed visits

    @property
    def branch(self) -> Branch:
        return self.patient.branch


class History:
    def __init__(self, clinic: Clinic, rng: Random, now: datetime):
        self.clinic, self.rng, self.now = clinic, rng, now
        self.start = now - timedelta(days=DAYS)
        self.rows: dict[type, list] = defaultdict(list)
        self.phones: set[str] = set()
        self.messenger_ids: set[str] = set()
        self.taken_slots: set[tuple[int, datetime]] = set()
        self.outcomes: Counter = Counter()
        self.waiting: list[Inquiry] = []
        self.utm_cities = {branch.pk: row[-1] for branch, row in zip(clinic.branches, BRANCHES, strict=True)}
        names = {name for reasons in (LOST_REASONS, MISSED_LOST_REASONS, JUNK_REASONS) for name, _notes in reasons}
        self.lost_reasons = LostReason.objects.in_bulk(names, field_name="name")

    def add(self, row):
        self.rows[type(row)].append(row)
        return row

    # --- the whole clinic -------------------------------------------------------------------------

    def write(self, *, patients: int, waiting: int) -> None:
        """About `patients` patients' stories, topped up with newcomers so about `waiting` wait in the queue."""
        for _ in range(patients - waiting):
            self.patient_story()
        # Inquiries that came after hours already wait for the morning; newcomers make up the rest: half of
        # them just arrived (still within the response target), half have waited too long.
        for index in range(max(3, waiting - len(self.waiting))):
            minutes = self.rng.randint(1, 12) if index % 2 else self.rng.randint(15, 240)
            self.patient_story(branch=self.clinic.branches[index // 2 % 2],
                               waiting_since=self.now - timedelta(minutes=minutes))
        self.desk_tasks()
        self.save()

    def save(self) -> None:
        for model in (Patient, PatientIdentity, Consent, Case, CaseTransition, Inquiry, Message, Appointment, Task):
            model.objects.bulk_create(self.rows[model], batch_size=500)
        # The same escalation job inquiry_receive plans; answered inquiries have none left pending.
        Job.objects.bulk_create([
            Job(kind=ESCALATE_JOB, due_at=inquiry.response_due_at, idempotency_key=inquiry.escalation_key,
                payload={"inquiry_id": inquiry.pk}, patient_id=inquiry.patient_id, branch_id=inquiry.branch_id,
                created_at=inquiry.received_at)
            for inquiry in self.waiting if inquiry.response_due_at])

    # --- one patient ------------------------------------------------------------------------------

    def patient_story(self, branch: Branch | None = None, waiting_since: datetime | None = None) -> None:
        branch = branch or self.clinic.branches[MOSCOW if self.rng.random() < 0.6 else 1]
        moment = waiting_since or self.moment_between(branch, self.start, self.now)
        channel = self.pick_channel()
        # About a third were patients before the CRM: the MIS knows one earlier visit of theirs.
        earlier_visit = self.start - timedelta(days=self.rng.randint(20, 540)) if self.rng.random() < 0.3 else None
        person = self.new_person(branch, channel, since=earlier_visit - timedelta(days=3) if earlier_visit else moment)
        if earlier_visit:
            self.mis_visit(person, earlier_visit)
        while moment is not None and moment < self.now:
            moment = self.journey(person, moment, channel, waiting=waiting_since is not None)
            channel = self.pick_channel()

    def new_person(self, branch: Branch, channel: str, since: datetime) -> Person:
        birth = date(self.rng.randint(1948, 2006), self.rng.randint(1, 12), self.rng.randint(1, 28))
        full_name, female = person_name(self.rng, birth.year)
        email = email_address(self.rng, full_name, birth.year) if self.rng.random() < 0.35 else ""
        preferred = channel if channel in (Channel.WHATSAPP, Channel.TELEGRAM, Channel.VK) else Channel.PHONE
        patient = self.add(Patient(full_name=full_name, birth_date=birth, email=email, branch=branch,
                                   preferred_channel=preferred, language="ru", created_at=since))
        person = Person(patient, mobile_phone(self.rng, self.phones), female)
        self.add(PatientIdentity(patient=patient, channel=Channel.PHONE, address=person.phone, created_at=since))
        # As inquiry_receive records them: processing and service at once; marketing for some, confirmed by the
        # number (a reply or a call) a day later; and transfer abroad for those who write in foreign messengers.
        P = Consent.Purpose
        purposes = [(P.PROCESSING, since), (P.SERVICE, since)]
        if self.rng.random() < 0.3:
            purposes.append((P.MARKETING, since + timedelta(days=1)))
        if channel in Consent.CROSS_BORDER_CHANNELS:
            purposes.append((P.CROSS_BORDER, since))
        for purpose, confirmed_at in purposes:
            self.add(Consent(patient=patient, purpose=purpose, given_at=since, confirmed_at=confirmed_at,
                             source=channel, text_version=CONSENT_TEXT_VERSION))
        return person

    def add_messenger(self, person: Person, channel: str, at: datetime) -> None:
        if channel not in (Channel.WHATSAPP, Channel.TELEGRAM, Channel.VK) or channel in person.channels:
            return
        person.channels.add(channel)
        address = person.phone.lstrip("+") if channel == Channel.WHATSAPP else str(self.rng.randrange(10**8, 10**10))
        if address in self.messenger_ids:
            return
        self.messenger_ids.add(address)
        self.add(PatientIdentity(patient=person.patient, channel=channel, address=address, created_at=at))

    # --- one journey: an inquiry and its case -----------------------------------------------------

    def journey(self, person: Person, received_at: datetime, channel: str, waiting: bool) -> datetime | None:
        """One inquiry and the case it opens, followed up to now. Returns when the next inquiry comes, if ever."""
        service, person.channel = self.rng.choice(self.clinic.services[person.branch.pk]), channel
        case = self.case_open(person, received_at)
        inquiry = self.inquiry(person, case, channel, service, received_at)
        if waiting:
            return self.leave_waiting(inquiry)
        if self.rng.random() < 0.025:
            return self.close_unanswered(person, inquiry, case)
        answered_at = self.answer(inquiry)
        if answered_at is None:
            return None
        return self.qualify(person, case, service, answered_at, inquiry.preferred_time)

    def case_open(self, person: Person, at: datetime) -> Case:
        case = self.add(Case(patient=person.patient, branch=person.branch, stage=Stage.NEW, created_at=at,
                             stage_changed_at=at))
        self.add(CaseTransition(case=case, to_stage=Stage.NEW, at=at, source=Source.SYSTEM))
        return case

    def move(self, case: Case, to_stage: str, at: datetime, *, by=None, source: str = Source.PERSON,
             reason: str = "", lost_reason: LostReason | None = None) -> None:
        """Append a transition the funnel allows; a story that breaks the rules is a bug of the demo."""
        # The story lives in memory until written: the funnel cannot ask the database for the case's visits.
        booked = to_stage == Stage.COMPLETED and any(a.case is case for a in self.rows[Appointment])
        why_not = refusal_reason(case, to_stage, source, reason, lost_reason=lost_reason, has_appointment=booked)
        if why_not or not case.stage_changed_at <= at <= self.now:
            raise ValueError(f"demo story breaks a rule: {case.stage} -> {to_stage} at {at}: {why_not}")
        self.add(CaseTransition(case=case, from_stage=case.stage, to_stage=to_stage, at=at, by=by, source=source,
                                reason=reason))
        case.stage, case.stage_changed_at = to_stage, at
        lost = to_stage == Stage.LOST
        case.lost_reason, case.listed_lost_reason = (reason, lost_reason) if lost else ("", None)

    def lost_words(self, person: Person, reasons: list[tuple[str, list[str]]]) -> tuple[LostReason, str]:
        """A reason from the clinic's list, and the words a lost case shows: the list's name, then the desk's note."""
        name, notes = self.rng.choice(reasons)
        listed, note = self.lost_reasons[name], self.rng.choice(notes).format(a="а" if person.female else "")
        return listed, f"{listed.label}: {note}" if note else listed.label

    def inquiry(self, person: Person, case: Case, channel: str, service: Service, received_at: datetime) -> Inquiry:
        branch = person.branch
        web = self.web_source(branch, service) if channel == Channel.WEB else {}
        inquiry = self.add(Inquiry(
            patient=person.patient, branch=branch, case=case, channel=channel, received_at=received_at,
            response_due_at=response_due(branch, received_at), specialty=service.specialty, service=service,
            preferred_time=self.rng.choice(PREFERRED_TIMES), **web))
        self.add(Message(inquiry=inquiry, direction=Message.Direction.INBOUND, created_at=received_at,
                         body=self.first_words(person, channel, service)))
        self.add_messenger(person, channel, received_at)
        return inquiry

    def first_words(self, person: Person, channel: str, service: Service) -> str:
        """What the patient wrote, or what the desk noted of the call: the service and when, nothing medical."""
        text = self.rng.choice(CALLS if channel == Channel.PHONE else ASKS)
        name = service.name if service.name[1:2].isupper() else service.name[0].lower() + service.name[1:]  # ЭКГ, УЗИ
        return text.format(service=name, to_doctor=SPECIALTIES[service.specialty.name][1], price=int(service.price),
                           weekday=self.rng.choice(WEEKDAYS), a="а" if person.female else "")

    def web_source(self, branch: Branch, service: Service) -> dict:
        source, medium, campaign, referrer, _weight = self.rng.choices(WEB_SOURCES, [s[-1] for s in WEB_SOURCES])[0]
        # UTM tags as the clinic's marketers write them: Latin, short (kardiolog-msk).
        city, specialty = self.utm_cities[branch.pk], SPECIALTIES[service.specialty.name][0]
        return {"utm_source": source, "utm_medium": medium, "referrer": referrer,
                "utm_campaign": campaign.format(city=city, specialty=specialty),
                "page_url": f"https://clinic.example/{city}/{specialty}/"}

    def leave_waiting(self, inquiry: Inquiry) -> None:
        """Still in the queue; while the desk is open, a receptionist may already have picked it up."""
        if self.calendar(inquiry.branch).is_open_at(self.now) and self.rng.random() < 0.3:
            inquiry.status, inquiry.taken_by = Inquiry.Status.TAKEN, self.clinic.receptionist(inquiry.branch)
            inquiry.taken_at = max(inquiry.received_at, self.now - timedelta(seconds=self.rng.randint(30, 600)))
        self.waiting.append(inquiry)
        return None

    def close_unanswered(self, person: Person, inquiry: Inquiry, case: Case) -> None:
        """Closed without an answer as junk (spam, a duplicate): as inquiry_close does, its fresh case is lost."""
        closed_at = self.later(inquiry.branch, inquiry.received_at, 2, 40)
        if closed_at > self.now:
            return self.leave_waiting(inquiry)
        by, (junk, reason) = self.clinic.receptionist(inquiry.branch), self.lost_words(person, JUNK_REASONS)
        inquiry.status, inquiry.closed_reason = Inquiry.Status.CLOSED, reason
        self.add(Message(inquiry=inquiry, direction=Message.Direction.NOTE, author=by, created_at=closed_at,
                         body=gettext("Closed: %(reason)s") % {"reason": reason}))
        self.move(case, Stage.LOST, closed_at, by=by, reason=reason, lost_reason=junk)
        return None

    def answer(self, inquiry: Inquiry) -> datetime | None:
        """The first response, in working time; None when that moment has not come yet (it waits)."""
        calendar = self.calendar(inquiry.branch)
        answered_at = calendar.add_working_seconds(inquiry.received_at, self.response_seconds(inquiry))
        if answered_at is None or answered_at >= self.now:
            return self.leave_waiting(inquiry)
        by, answered_at = self.clinic.receptionist(inquiry.branch), answered_at.replace(microsecond=0)
        inquiry.status, inquiry.first_response_at, inquiry.first_response_by = Inquiry.Status.ANSWERED, answered_at, by
        inquiry.taken_by = by
        inquiry.taken_at = max(inquiry.received_at, answered_at - timedelta(seconds=self.rng.randint(5, 90)))
        replies = CALL_REPLIES if inquiry.channel == Channel.PHONE else REPLIES
        self.add(Message(inquiry=inquiry, direction=Message.Direction.OUTBOUND, body=self.rng.choice(replies),
                         author=by, created_at=answered_at))
        if inquiry.response_due_at and answered_at > inquiry.response_due_at:
            self.escalation(inquiry, answered_at)
        return answered_at

    def response_seconds(self, inquiry: Inquiry) -> int:
        """Working seconds until the first response: most within minutes, some late, a few very late."""
        picked_up = self.calendar(inquiry.branch).is_open_at(inquiry.received_at) and self.rng.random() < 0.65
        if inquiry.channel == Channel.PHONE and picked_up:
            return self.rng.randint(0, 30)
        low, high = self.rng.choices([(40, 300), (300, 1200), (1200, 5400), (5400, 14400)], [62, 23, 11, 4])[0]
        return self.rng.randint(low, high)

    def escalation(self, inquiry: Inquiry, answered_at: datetime) -> None:
        """What the escalation job did for an inquiry answered late: a task for the manager, done on the answer."""
        # The title escalate_unanswered_inquiry writes: no name in it, the task links the patient.
        title = gettext("Inquiry unanswered for over %(minutes)s working minutes") % {
            "minutes": settings.CLINICFLOW_RESPONSE_TARGET_MINUTES}
        self.add(Task(kind=Task.Kind.ESCALATION, branch=inquiry.branch, role=Role.FRONT_OFFICE_MANAGER, title=title,
                      patient=inquiry.patient, inquiry=inquiry, due_at=inquiry.response_due_at,
                      created_at=inquiry.response_due_at, done_at=answered_at, done_by=self.clinic.manager))

    # --- the case after the first answer ----------------------------------------------------------

    def qualify(self, person: Person, case: Case, service: Service, answered_at: datetime,
                preferred_time: str) -> datetime | None:
        by = self.clinic.receptionist(person.branch)
        self.move(case, Stage.QUALIFICATION, answered_at, by=by)
        case.owner = by
        first_visit, returning = INTAKE_SCRIPT["visit_type"][1]
        case.intake = {"specialty": str(service.specialty_id),
                       "visit_type": returning if person.visits else first_visit}
        if preferred_time:
            case.intake["time_window"] = preferred_time
        fate = self.rng.random()
        if fate < 0.07:
            return self.lose(person, case, self.later(person.branch, answered_at, 5, 600), LOST_REASONS)
        decided_at = answered_at + timedelta(minutes=self.rng.randint(1, 4))
        if fate < 0.29:  # will think it over: the desk calls back in a few days
            # Titles name no patient (they travel to lists and notifications; the task links the patient) and
            # do not repeat the kind («Перезвонить») that pages show before them.
            title = "Думает, когда записаться"
            decided_at = self.callback(person, answered_at, title, within_minutes=3500)
            if decided_at and fate < 0.12:
                return self.lose(person, case, decided_at, LOST_REASONS)
        if decided_at is None or decided_at > self.now:
            return None
        self.move(case, Stage.BOOKING, decided_at, by=by)
        # Usually booked during the same conversation; sometimes the patient first checks their diary.
        booked_at = decided_at + timedelta(minutes=1)
        if self.rng.random() < 0.25:
            booked_at = self.later(person.branch, decided_at, 60, 2500)
        return self.visit(person, case, service, booked_at, depth=0)

    def lose(self, person: Person, case: Case, at: datetime, reasons: list[tuple[str, list[str]]]) -> datetime | None:
        if at > self.now:
            return None
        listed, reason = self.lost_words(person, reasons)
        self.move(case, Stage.LOST, at, by=self.clinic.receptionist(person.branch), reason=reason, lost_reason=listed)
        return self.next_journey(person, case)

    def callback(self, person: Person, at: datetime, title: str, within_minutes: int = 900) -> datetime | None:
        """A call-back task; returns when it was done, or None if it is still open (perhaps overdue)."""
        by = self.clinic.receptionist(person.branch)
        due_at = self.later(person.branch, at, 60, within_minutes * 2 // 3)
        task = self.add(Task(kind=Task.Kind.CALLBACK, title=title, branch=person.branch, assignee=by, due_at=due_at,
                             patient=person.patient, created_at=at, created_by=by))
        done_at = self.later(person.branch, at, 30, within_minutes)
        if done_at > self.now:
            return None
        task.done_at, task.done_by = done_at, by
        return done_at

    def next_journey(self, person: Person, case: Case) -> datetime | None:
        """Some patients come back with a new inquiry weeks after a journey ends."""
        if self.rng.random() < 0.3:
            ended = case.stage_changed_at
            return self.moment_between(person.branch, ended + timedelta(days=7), ended + timedelta(days=75))
        return None

    # --- visits -----------------------------------------------------------------------------------

    def visit(self, person: Person, case: Case, service: Service, booked_at: datetime, depth: int) -> datetime | None:
        if booked_at > self.now:
            return None
        appointment = self.appointment(person, case, service, booked_at)
        self.move(case, Stage.REMINDER, booked_at, source=Source.SYSTEM, reason=gettext("Appointment booked"))
        if appointment.ends_at > self.now:
            return self.upcoming(appointment)
        appointment.status = self.visit_outcome(cancellable=True)
        if appointment.status == Appointment.Status.CANCELLED:
            share = self.rng.uniform(0.2, 0.9)
            appointment.status_changed_at = (booked_at + (appointment.starts_at - booked_at) * share).replace(
                microsecond=0)
            return self.missed(person, case, service, appointment.status_changed_at, "Отмена записи", depth)
        if appointment.status == Appointment.Status.NO_SHOW:
            appointment.status_changed_at = appointment.starts_at + timedelta(minutes=20)
            return self.missed(person, case, service, appointment.status_changed_at, "Неявка на приём", depth)
        appointment.status_changed_at = appointment.ends_at
        person.visits.append(appointment.starts_at)
        return self.completed(person, case, service, appointment.ends_at, depth)

    def appointment(self, person: Person, case: Case | None, service: Service, booked_at: datetime,
                    source: str = Appointment.Source.PHONE) -> Appointment:
        doctor = self.rng.choice(self.clinic.doctors[(person.branch.pk, service.specialty_id)])
        lead_days = self.rng.choices([0, 1, 2, 3, 5, 7, 10, 14], [8, 25, 18, 14, 12, 10, 8, 5])[0]
        starts_at = self.free_slot(doctor.pk, person.branch, service.duration_minutes,
                                   booked_at + timedelta(hours=1), lead_days)
        if source == Appointment.Source.PHONE and person.channel == Channel.WEB and self.rng.random() < 0.3:
            source = Appointment.Source.WIDGET
        return self.add(Appointment(
            patient=person.patient, case=case, doctor=doctor, service=service, branch=person.branch,
            starts_at=starts_at, ends_at=starts_at + timedelta(minutes=service.duration_minutes),
            status=Appointment.Status.BOOKED, source=source, is_primary=not any(v < starts_at for v in person.visits),
            created_at=booked_at, status_changed_at=booked_at,
            created_by=None if source == Appointment.Source.MIS else self.clinic.receptionist(person.branch)))

    def free_slot(self, doctor_id: int, branch: Branch, minutes: int, not_before: datetime, lead_days: int) -> datetime:
        """A random free start on the first day (from `lead_days` on) the doctor has room; marks it taken."""
        calendar, cells = self.calendar(branch), math.ceil(minutes / 30)
        day = not_before.astimezone(calendar.zone).date() + timedelta(days=lead_days)
        for _ in range(366):
            free = [start for start in self.day_starts(calendar, day, minutes) if start >= not_before
                    and all((doctor_id, start + SLOT * k) not in self.taken_slots for k in range(cells))]
            if free:
                start = self.rng.choice(free)
                self.taken_slots.update((doctor_id, start + SLOT * k) for k in range(cells))
                return start
            day += timedelta(days=1)
        raise RuntimeError(f"doctor {doctor_id} has no free slot for a year after {not_before}")

    @staticmethod
    def day_starts(calendar, day: date, minutes: int) -> list[datetime]:
        """Half-hour starts on one local day where a visit of `minutes` fits before closing or the break."""
        starts = []
        for opens, closes in calendar.intervals_on(day):
            start = opens
            while start + timedelta(minutes=minutes) <= closes:
                starts.append(start.astimezone(UTC))
                start += SLOT
        return starts

    def upcoming(self, appointment: Appointment) -> None:
        """Not over yet: the patient is in the building, or confirmed the day before, or not yet asked."""
        if appointment.starts_at <= self.now:
            appointment.status, appointment.status_changed_at = Appointment.Status.ARRIVED, appointment.starts_at
            return None
        confirmed_at = max(appointment.created_at, appointment.starts_at - timedelta(days=1))
        if confirmed_at <= self.now and self.rng.random() < 0.75:
            appointment.status, appointment.status_changed_at = Appointment.Status.CONFIRMED, confirmed_at
        return None

    def visit_outcome(self, cancellable: bool) -> str:
        """Completed, no-show or cancelled; the no-show share is steered towards NO_SHOW_SHARE so the
        demo's KPI reads the same whatever the seed."""
        if cancellable and self.rng.random() < 0.08:
            return Appointment.Status.CANCELLED
        seen = self.outcomes
        missing = NO_SHOW_SHARE * (seen["completed"] + seen["no_show"]) - seen["no_show"]
        chance = min(max(NO_SHOW_SHARE + missing / 4, 0.0), 1.0)
        outcome = Appointment.Status.NO_SHOW if self.rng.random() < chance else Appointment.Status.COMPLETED
        seen[outcome.value] += 1
        return outcome

    def missed(self, person: Person, case: Case, service: Service, at: datetime, why: str,
               depth: int) -> datetime | None:
        """A cancelled or missed visit: back to booking, a call-back, then a new visit or a lost case."""
        self.move(case, Stage.BOOKING, at, by=self.clinic.receptionist(person.branch), reason=why)
        called_at = self.callback(person, at, "Перезаписать на приём", within_minutes=1500)
        if called_at is None:
            return None
        if depth < 2 and self.rng.random() < 0.6:
            return self.visit(person, case, service, called_at, depth + 1)
        return self.lose(person, case, called_at, MISSED_LOST_REASONS)

    def completed(self, person: Person, case: Case, service: Service, ended_at: datetime,
                  depth: int) -> datetime | None:
        """After the visit: a follow-up visit, a review request, or simply the end of the journey."""
        by = self.clinic.receptionist(person.branch)
        source = Source.MIS if mis_is_connected() else Source.PERSON
        self.move(case, Stage.COMPLETED, ended_at, by=None if source == Source.MIS else by, source=source)
        next_at, fate = self.later(person.branch, ended_at, 60, 1800), self.rng.random()
        if next_at > self.now:
            return None
        if fate < 0.25 and depth < 2:
            self.move(case, Stage.REBOOKING, next_at, by=by, reason="Рекомендован повторный приём")
            booked_at = self.later(person.branch, next_at, 300, 5000)  # when the results are ready
            if booked_at > self.now:
                return None
            self.move(case, Stage.BOOKING, booked_at, by=by)
            return self.visit(person, case, self.follow_up(person.branch, service), booked_at, depth + 1)
        if fate < 0.8:
            self.move(case, Stage.REVIEW, next_at, source=Source.SYSTEM, reason="Запрошен отзыв")
            next_at = self.later(person.branch, next_at, 300, 3000)
            if next_at > self.now:
                return None
        reason = "Получен отзыв" if case.stage == Stage.REVIEW else "Приём состоялся"
        self.move(case, Stage.CLOSED, next_at, source=Source.SYSTEM, reason=reason)
        return self.next_journey(person, case)

    def follow_up(self, branch: Branch, service: Service) -> Service:
        return self.rng.choice([s for s in self.clinic.services[branch.pk] if s.specialty_id == service.specialty_id])

    def mis_visit(self, person: Person, day: datetime) -> None:
        """A visit from before the CRM, imported from the MIS: it makes the patient a returning one."""
        service = self.rng.choice(self.clinic.services[person.branch.pk])
        appointment = self.appointment(person, None, service, day, source=Appointment.Source.MIS)
        appointment.status = self.visit_outcome(cancellable=False)
        appointment.created_at = appointment.starts_at - timedelta(days=3)
        appointment.status_changed_at, appointment.mis_id = appointment.ends_at, f"V-{len(self.rows[Appointment])}"
        person.patient.mis_id = f"P-{10000 + len(self.rows[Patient])}"
        if appointment.status == Appointment.Status.COMPLETED:
            person.visits.append(appointment.starts_at)

    # --- open work for today ----------------------------------------------------------------------

    def desk_tasks(self) -> None:
        """Today's to-do list: a call-back that is overdue, one due later today, and the manager's review."""
        for branch in self.clinic.branches:
            by = self.clinic.receptionist(branch)
            cases = [c for c in self.rows[Case] if c.branch.pk == branch.pk and c.stage == Stage.REMINDER
                     and c.stage_changed_at < self.now - timedelta(days=1)]
            todo = [(Task.Kind.CALLBACK, "После 18:00, как обещали", -3),
                    (Task.Kind.FOLLOW_UP, "Отправить прайс-лист на e-mail", 4)]
            for case, (kind, title, hours) in zip(self.rng.sample(cases, min(2, len(cases))), todo, strict=False):
                self.add(Task(kind=kind, title=title, branch=branch,
                              assignee=by, patient=case.patient, due_at=self.now + timedelta(hours=hours),
                              created_at=case.stage_changed_at, created_by=by))
        self.add(Task(kind=Task.Kind.OTHER, title="Разобрать потерянные сделки прошлой недели",
                      role=Role.FRONT_OFFICE_MANAGER, branch=self.clinic.branches[MOSCOW],
                      due_at=self.now - timedelta(days=1), created_at=self.now - timedelta(days=4),
                      created_by=self.clinic.staff["admin"]))

    # --- time -------------------------------------------------------------------------------------

    def calendar(self, branch: Branch):
        return self.clinic.calendars[branch.pk]

    def later(self, branch: Branch, moment: datetime, low_minutes: int, high_minutes: int) -> datetime:
        """A moment some working minutes after `moment`: when the front desk would get round to it."""
        seconds = self.rng.randint(low_minutes * 60, high_minutes * 60)
        return self.calendar(branch).add_working_seconds(moment, seconds).replace(microsecond=0)

    def moment_between(self, branch: Branch, earliest: datetime, latest: datetime) -> datetime:
        """A random moment: more likely in the branch's daytime than at night, less on Sundays and holidays."""
        while True:
            moment = earliest + (latest - earliest) * self.rng.random()
            local = moment.astimezone(branch.zone)
            quiet_day = local.weekday() == 6 or self.calendar(branch).is_closed(local.date())
            if self.rng.random() < HOUR_WEIGHTS[local.hour] * (0.4 if quiet_day else 1):
                return moment.replace(microsecond=0)

    def pick_channel(self) -> str:
        return self.rng.choices(list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values()))[0]
