"""E-mail in and out. What is tested how: real-shaped RFC 822 messages (as Thunderbird, Gmail and Outlook send
them) are parsed by the module itself; the poll talks to a fake IMAP4 class put in place of imaplib's at one
seam (it answers select/uid SEARCH/uid FETCH as a server would, as imaplib returns them); replies go through
Django's locmem mail backend, whose messages we read with their headers. No real IMAP or SMTP server runs."""

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import override_settings

from clinicflow.automation.models import Job
from clinicflow.channels import email as channel
from clinicflow.channels.base import SendFailed
from clinicflow.channels.models import MailboxCursor, UnreadDelivery
from clinicflow.clinic.models import ClinicSettings
from clinicflow.inbox.models import Inquiry, Message
from clinicflow.patients.models import Patient

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)


def letter(text="Здравствуйте! Хочу записаться к кардиологу.", sender='"Иван Петров" <Ivan.Petrov@Example.ru>',
           message_id="<a1@example.ru>", html=None, **headers) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "clinic@example.com"
    message["Subject"] = "Запись"
    if message_id:
        message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    if text is not None:
        message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html") if text is not None else message.set_content(html, "html")
    return message.as_bytes()


class FakeImap:
    """imaplib.IMAP4's answers, for one folder of messages keyed by UID."""

    folder: dict[int, tuple[bytes, bool]] = {}  # uid → (raw message, seen)
    validity = 7
    logins: list[tuple[str, str]] = []

    def __init__(self, host, port, timeout=None):
        self.host = host

    def login(self, user, password):
        FakeImap.logins.append((user, password))
        return "OK", [b"Logged in"]

    def select(self, mailbox, readonly=False):
        assert readonly, "the poll must not mark anything read"
        return "OK", [str(len(self.folder)).encode()]

    def response(self, code):
        return code, [str(self.validity).encode()]

    def uid(self, command, *args):
        if command == "SEARCH":
            criteria = args[1]
            if criteria == "UNSEEN":
                uids = [uid for uid, (_raw, seen) in self.folder.items() if not seen]
            else:  # "UID n:*": like real servers, n:* returns the last message even when its UID is below n
                first = int(criteria.split()[1].split(":")[0])
                uids = [uid for uid in self.folder if uid >= first] or sorted(self.folder)[-1:]
            return "OK", [" ".join(map(str, sorted(uids))).encode()]
        if command == "FETCH":
            raw = self.folder[int(args[0])][0]
            return "OK", [(f"{args[0]} (UID {args[0]} BODY[] {{{len(raw)}}}".encode(), raw), b")"]
        raise AssertionError(command)

    def logout(self):
        return "BYE", [b""]


@pytest.fixture
def mailbox(monkeypatch, moscow):
    ClinicSettings.objects.update_or_create(pk=1, defaults={"default_branch": moscow})
    FakeImap.folder, FakeImap.validity, FakeImap.logins = {}, 7, []
    monkeypatch.setattr(channel.imaplib, "IMAP4_SSL", FakeImap)
    with override_settings(CLINICFLOW_IMAP_HOST="imap.example.com", CLINICFLOW_IMAP_USER="clinic@example.com",
                           CLINICFLOW_IMAP_PASSWORD="pw"), time_machine.travel(NOW, tick=False):
        yield FakeImap.folder


# --- parsing -------------------------------------------------------------------------------------

def test_a_letter_becomes_a_draft_from_its_sender():
    draft = channel.message_draft(letter())
    assert (draft.channel, draft.sender, draft.email, draft.full_name) == (
        "email", "ivan.petrov@example.ru", "ivan.petrov@example.ru", "Иван Петров")
    assert draft.text == "Здравствуйте! Хочу записаться к кардиологу."
    assert draft.external_id == "<a1@example.ru>"


PASSED = "mx.clinic.example; dkim=pass header.d=example.ru; spf=pass; dmarc=pass header.from=example.ru"


def test_only_our_servers_dmarc_pass_makes_the_from_address_the_patients_own():
    assert channel.message_draft(letter(Authentication_Results=PASSED)).number_verified
    assert not channel.message_draft(letter()).number_verified  # anybody can write any From
    failed = PASSED.replace("dmarc=pass", "dmarc=fail")
    assert not channel.message_draft(letter(Authentication_Results=failed)).number_verified


def test_a_forged_verdict_below_our_servers_own_counts_for_nothing(settings):
    settings.CLINICFLOW_IMAP_AUTHSERV_ID = "mx.clinic.example"
    forged = "evil.example; dmarc=pass header.from=example.ru"
    assert not channel.message_draft(letter(Authentication_Results=forged)).number_verified
    assert channel.message_draft(letter(Authentication_Results=PASSED)).number_verified


@pytest.mark.parametrize("verdict,confirmed", [(None, False), (PASSED, True)])
def test_only_an_authenticated_letter_confirms_a_waiting_consent(moscow, verdict, confirmed):
    from clinicflow.clinic.models import ClinicSettings
    from clinicflow.compliance.models import Consent
    from clinicflow.compliance.services import consent_record
    from clinicflow.inbox.services import inquiry_receive
    from clinicflow.patients.services import patient_resolve

    ClinicSettings.objects.update_or_create(pk=1, defaults={"default_branch": moscow})
    known, _created = patient_resolve(branch=moscow, phone="+79161234567", address=("email", "ivan.petrov@example.ru"))
    consent_record(patient=known, purpose=Consent.Purpose.PROCESSING, confirmed=False, source="web")
    headers = {"Authentication_Results": verdict} if verdict else {}
    inquiry, _received = inquiry_receive(draft=channel.message_draft(letter(**headers)))
    assert inquiry.patient == known  # unauthenticated, it still reaches the queue on the address's card
    processing = known.consents.filter(purpose=Consent.Purpose.PROCESSING)
    assert processing.filter(confirmed_at__isnull=False).exists() is confirmed


def test_a_reply_keeps_only_what_was_written_this_time():
    text = ("Да, в среду удобно.\n\n-- \nИван\n\n")
    assert channel.message_draft(letter(text)).text == "Да, в среду удобно."
    quoted = "Yes, Wednesday.\n\nOn Mon, 30 Nov 2026 at 10:00, Clinic <clinic@example.com> wrote:\n> When?\n"
    assert channel.message_draft(letter(quoted)).text == "Yes, Wednesday."
    russian = "Подходит.\n\n1 дек. 2026 г., в 10:00, Клиника <clinic@example.com> пишет:\n> Когда удобно?\n"
    assert channel.message_draft(letter(russian)).text == "Подходит."


def test_an_html_only_letter_is_read_as_text():
    html = ("<html><head><style>p{}</style></head>"
            "<body><p>Запишите&nbsp;меня</p><div>на&nbsp;пятницу</div></body></html>")
    assert channel.message_draft(letter(text=None, html=html)).text == "Запишите меня\nна пятницу"


def test_the_text_part_wins_over_html():
    assert channel.message_draft(letter("plain words", html="<p>html words</p>")).text == "plain words"


def test_auto_replies_and_bounces_are_no_inquiry():
    assert channel.message_draft(letter(Auto_Submitted="auto-replied")) is None
    assert channel.message_draft(letter(sender="MAILER-DAEMON@example.ru")) is None


def test_a_letter_without_message_id_is_named_by_its_content():
    raw = letter(message_id=None)
    assert channel.message_draft(raw).external_id == channel.message_draft(raw).external_id != ""


def test_a_letter_without_a_sender_address_is_malformed():
    with pytest.raises(channel.Malformed):
        channel.message_draft(letter(sender="undisclosed-recipients:;"))


# --- polling -------------------------------------------------------------------------------------

def test_the_first_poll_takes_the_unread_mail_only(mailbox):
    mailbox.update({1: (letter(message_id="<old@x>"), True), 2: (letter(message_id="<new@x>"), False)})
    assert channel.mailbox_poll() == 1
    inquiry = Inquiry.objects.get()
    assert inquiry.channel == "email" and inquiry.patient.email == "ivan.petrov@example.ru"
    assert inquiry.messages.get().external_id == "<new@x>"
    assert FakeImap.logins == [("clinic@example.com", "pw")]


def test_later_polls_take_what_arrived_since_by_uid(mailbox):
    mailbox[1] = (letter(message_id="<m1@x>"), False)
    channel.mailbox_poll()
    assert channel.mailbox_poll() == 0  # "2:*" brings message 1 back; it is not taken again
    mailbox[2] = (letter("Ещё вопрос", message_id="<m2@x>"), True)  # read by someone in a mail app meanwhile
    assert channel.mailbox_poll() == 1
    inquiry = Inquiry.objects.get()  # the second letter joins the waiting inquiry
    assert [m.body for m in inquiry.messages.all()][-1] == "Ещё вопрос"
    assert MailboxCursor.objects.get().last_uid == 2


def test_a_letter_read_twice_is_taken_once(mailbox):
    mailbox[1] = (letter(), False)
    channel.mailbox_poll()
    FakeImap.validity = 8  # the server renumbered the folder: the same letter comes back under a new UID
    mailbox[5] = mailbox.pop(1)
    channel.mailbox_poll()
    assert (Patient.objects.count(), Inquiry.objects.count(), Message.objects.count()) == (1, 1, 1)


def test_a_letter_we_cannot_read_is_kept_and_the_rest_taken(mailbox):
    mailbox.update({1: (letter(sender="nobody"), False), 2: (letter(message_id="<ok@x>"), False)})
    assert channel.mailbox_poll() == 2
    assert Inquiry.objects.count() == 1
    assert "From" in UnreadDelivery.objects.get().error


def test_the_poll_job_plans_the_next_one_in_its_time_slot(mailbox):
    call_command("mailbox_poll")
    job = Job.objects.get(kind="email.poll")
    assert job.due_at == NOW + timedelta(seconds=60)
    channel.email_poll_job(job)
    channel.email_poll_job(job)  # run twice (a retry): still one next job
    assert Job.objects.filter(kind="email.poll").count() == 2
    assert Job.objects.latest("due_at").due_at == NOW + timedelta(seconds=120)


# --- out -----------------------------------------------------------------------------------------

@override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
                   CLINICFLOW_EMAIL_FROM="clinic@example.com")
def test_a_reply_is_threaded_under_the_patients_last_letter(mailbox):
    mailbox[1] = (letter(message_id="<a1@example.ru>"), False)
    channel.mailbox_poll()
    patient = Patient.objects.get()
    thread = channel.last_message_id(patient_id=patient.pk)
    sent_id = channel.send(to=patient.email, text="Ждём вас в среду в 10:00.", subject="Re: Запись",
                           in_reply_to=thread)
    sent = mail.outbox[0]
    assert thread == "<a1@example.ru>"
    assert sent.extra_headers["In-Reply-To"] == sent.extra_headers["References"] == "<a1@example.ru>"
    assert sent.extra_headers["Message-ID"] == sent_id and sent_id.endswith("@example.com>")
    assert (sent.to, sent.from_email, sent.body) == (["ivan.petrov@example.ru"], "clinic@example.com",
                                                    "Ждём вас в среду в 10:00.")
    assert "In-Reply-To: <a1@example.ru>" in sent.message().as_string()


def test_a_refused_address_is_no_use_retrying(monkeypatch):
    import smtplib

    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPRecipientsRefused({"x@example.ru": (550, b"no such user")})

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        with pytest.raises(SendFailed) as failed:
            channel.send(to="x@example.ru", text="hello")
    assert failed.value.retry is False


def test_an_unreachable_server_is_worth_retrying(monkeypatch):
    def down(self, *args, **kwargs):
        raise ConnectionRefusedError("connection refused")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", down)
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        with pytest.raises(SendFailed) as failed:
            channel.send(to="x@example.ru", text="hello")
    assert failed.value.retry is True
