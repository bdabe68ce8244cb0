"""E-mail: the clinic's mailbox read over IMAP by a periodic job, replies sent over SMTP.

In: the job "email.poll" reads what arrived since the last poll (by UID, remembered per mailbox in
`MailboxCursor`; the very first poll, or one after the server renumbered the folder, takes the unread ones),
without marking anything read (BODY.PEEK), and hands each message to the inbox as an inquiry from the sender's
address. The Message-ID is the delivery's id: a message read twice is taken once.
Out: `send()` over Django's SMTP settings, threaded under the patient's last message (In-Reply-To, References).
"""

import hashlib
import imaplib
import logging
import re
import smtplib
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import make_msgid, parseaddr
from html.parser import HTMLParser

from django.conf import settings
from django.core.mail import EmailMessage as DjangoEmail
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinicflow.automation.registry import job_handler
from clinicflow.automation.services import job_plan
from clinicflow.inbox.models import Message
from clinicflow.inbox.services import InquiryDraft
from clinicflow.patients.models import Channel

from .base import Malformed, SendFailed
from .models import MailboxCursor
from .services import delivery_keep_unread, delivery_take

log = logging.getLogger(__name__)

POLL_JOB = "email.poll"
TEXT_MAX = 4000  # Message.body
IMAP_TIMEOUT = 30
# Where a reply's quoted history starts: "On Mon, 1 Dec 2026 … wrote:", "1 дек. 2026 г., в 10:00, Иван пишет:",
# Outlook's "-----Original Message-----" / "-----Исходное сообщение-----".
QUOTE_HEADER = re.compile(r"^\s*(on\b.*\bwrote:|.*\b(пишет|написал\(а\)|написал|написала):|-{2,}\s*"
                          r"(original message|исходное сообщение)\s*-{2,})\s*$", re.IGNORECASE)


def configured() -> bool:
    return bool(settings.CLINICFLOW_IMAP_HOST)


# --- in ------------------------------------------------------------------------------------------


def message_draft(raw: bytes) -> InquiryDraft | None:
    """An RFC 822 message as an inquiry from its sender; None for what no person wrote (auto-replies,
    bounces): answering those would start a mail loop. Raises Malformed without a sender's address."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    if _automatic(message):
        return None
    name, address = parseaddr(str(message.get("From", "")))
    address = address.strip().lower()
    if "@" not in address:
        raise Malformed("From: no e-mail address")
    text = _reply_only(_plain_text(message)) or str(message.get("Subject", "")).strip()
    message_id = str(message.get("Message-ID", "")).strip()
    return InquiryDraft(channel=Channel.EMAIL, sender=address, email=address, full_name=name.strip()[:160],
                        text=text[:TEXT_MAX], number_verified=_authenticated(message),
                        # Without a Message-ID the message's own bytes name it: read twice, it is still one.
                        external_id=message_id[:200] or "sha256:" + hashlib.sha256(raw).hexdigest())


def _authenticated(message: EmailMessage) -> bool:
    """Did our own mail server find the sender's domain vouching for the From address (DMARC pass)?

    Anybody can write any From: a message that is not authenticated still reaches the queue, but it confirms
    nothing a consent waits for. Only our server's verdict counts: the header whose authserv-id is
    CLINICFLOW_IMAP_AUTHSERV_ID, or else the topmost one (servers add theirs on top; lower ones may be forged).
    """
    verdicts = [str(value) for value in message.get_all("Authentication-Results") or []]
    own = settings.CLINICFLOW_IMAP_AUTHSERV_ID
    trusted = [v for v in verdicts if v.strip().lower().startswith(own.lower())] if own else verdicts[:1]
    return any("dmarc=pass" in verdict.lower() for verdict in trusted)


def _automatic(message: EmailMessage) -> bool:
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    sender = str(message.get("From", "")).lower()
    return auto != "no" or "mailer-daemon@" in sender or message.get_content_type() == "multipart/report"


def _plain_text(message: EmailMessage) -> str:
    """The text part; the HTML part made text when there is none (many phones send HTML only)."""
    part = message.get_body(preferencelist=("plain",))
    if part is not None:
        return part.get_content()
    part = message.get_body(preferencelist=("html",))
    return _html_text(part.get_content()) if part is not None else ""


def _reply_only(text: str) -> str:
    """What the person wrote this time: without the quoted history below it, nor the signature."""
    kept = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if QUOTE_HEADER.match(line) or line.rstrip() == "--":
            break
        if not line.lstrip().startswith(">"):
            kept.append(line.rstrip())
    return "\n".join(kept).strip()


class _TextOfHtml(HTMLParser):
    BREAKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "blockquote"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skipping = [], 0

    def handle_starttag(self, tag, attrs):
        self.skipping += tag in ("script", "style", "head")
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        self.skipping -= tag in ("script", "style", "head") and self.skipping > 0

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def _html_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def mailbox_poll() -> int:
    """Take the messages that arrived since the last poll. Returns how many were read.

    The cursor moves after each message, so a poll cut short (a lost connection, a stop) repeats nothing
    already taken; a message we cannot read is kept raw as an unread delivery, never lost nor retried forever.
    """
    mailbox = f"{settings.CLINICFLOW_IMAP_USER}@{settings.CLINICFLOW_IMAP_HOST}/{settings.CLINICFLOW_IMAP_FOLDER}"
    cursor, _created = MailboxCursor.objects.get_or_create(mailbox=mailbox[:300])
    imap = _connect()
    try:
        status, _data = imap.select(_quoted(settings.CLINICFLOW_IMAP_FOLDER), readonly=True)
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot open the folder {settings.CLINICFLOW_IMAP_FOLDER!r}")
        validity = int((imap.response("UIDVALIDITY")[1] or [b"0"])[0] or 0)
        if validity != cursor.uid_validity:
            # New mailbox, or the server renumbered it: yesterday's mail is not news, the unread mail is.
            cursor.uid_validity, cursor.last_uid = validity, 0
            uids = _search(imap, "UNSEEN")
        else:
            uids = [uid for uid in _search(imap, f"UID {cursor.last_uid + 1}:*") if uid > cursor.last_uid]
        for uid in uids:
            _take(imap, uid)
            cursor.last_uid = max(cursor.last_uid, uid)
            cursor.save(update_fields=["uid_validity", "last_uid"])
        cursor.save(update_fields=["uid_validity", "last_uid"])
        return len(uids)
    finally:
        try:
            imap.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def _connect() -> imaplib.IMAP4:
    kind = imaplib.IMAP4_SSL if settings.CLINICFLOW_IMAP_SSL else imaplib.IMAP4
    imap = kind(settings.CLINICFLOW_IMAP_HOST, settings.CLINICFLOW_IMAP_PORT, timeout=IMAP_TIMEOUT)
    imap.login(settings.CLINICFLOW_IMAP_USER, settings.CLINICFLOW_IMAP_PASSWORD)
    return imap


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _search(imap: imaplib.IMAP4, criteria: str) -> list[int]:
    status, data = imap.uid("SEARCH", None, criteria)
    if status != "OK":
        raise imaplib.IMAP4.error(f"SEARCH {criteria} failed")
    return sorted(int(uid) for uid in (data[0] or b"").split())


def _take(imap: imaplib.IMAP4, uid: int) -> None:
    status, data = imap.uid("FETCH", str(uid), "(BODY.PEEK[])")
    raw = next((part[1] for part in data if isinstance(part, tuple)), None) if status == "OK" else None
    if raw is None:
        raise imaplib.IMAP4.error(f"FETCH of message {uid} failed")
    try:
        draft = message_draft(raw)
    except Exception as exc:  # deliberately broad, as for webhooks: whatever it was, the message is kept
        delivery_keep_unread(channel="email", body=raw, content_type="message/rfc822",
                             error=f"{type(exc).__name__}: {exc}")
        return
    if draft is not None:
        delivery_take(channel="email", events=[draft], body=raw, content_type="message/rfc822")


def email_poll_plan(*, after: datetime) -> None:
    """Plan the next poll, in the next time slot: however many workers or starts plan it, each slot's key is
    one job."""
    every = max(settings.CLINICFLOW_IMAP_POLL_SECONDS, 10)
    slot = int(after.timestamp()) // every + 1
    job_plan(kind=POLL_JOB, due_at=datetime.fromtimestamp(slot * every, tz=UTC), key=f"{POLL_JOB}:{slot}")


@job_handler(POLL_JOB, label=gettext_lazy("Read the clinic's mailbox"))
def email_poll_job(job) -> str:
    if not configured():
        return "no mailbox configured"  # and no next poll: setting the host and running `mailbox_poll` starts it
    # The next poll first: a failing one (the server is down) must not end the polling.
    email_poll_plan(after=max(job.due_at, timezone.now()))
    return f"{mailbox_poll()} message(s)"


# --- out -----------------------------------------------------------------------------------------


def last_message_id(*, patient_id: int) -> str:
    """The Message-ID of the patient's last e-mail to us: a reply threads under it."""
    message = (Message.objects.filter(inquiry__patient_id=patient_id, channel=Channel.EMAIL,
                                      direction=Message.Direction.INBOUND).exclude(external_id__startswith="sha256:")
               .order_by("-created_at", "-id").first())
    return message.external_id if message else ""


def send(*, to: str, text: str, subject: str = "", in_reply_to: str = "") -> str:
    """Send `text` to `to`, threaded under `in_reply_to` (a Message-ID) when given. Returns our Message-ID."""
    domain = (settings.CLINICFLOW_EMAIL_FROM.rpartition("@")[2] or None) if settings.CLINICFLOW_EMAIL_FROM else None
    message_id = make_msgid(domain=domain)
    headers = {"Message-ID": message_id}
    if in_reply_to:
        headers.update({"In-Reply-To": in_reply_to, "References": in_reply_to})
    mail = DjangoEmail(subject=subject or _("Your inquiry"), body=text, to=[to], headers=headers,
                       from_email=settings.CLINICFLOW_EMAIL_FROM or None)
    try:
        mail.send()
    except smtplib.SMTPRecipientsRefused as exc:
        raise SendFailed(f"the server refused the address: {exc}", retry=False) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise SendFailed(f"{type(exc).__name__}: {exc}", retry=True) from exc
    return message_id
