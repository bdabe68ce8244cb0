from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from clinicflow.clinic.models import Branch

from .models import Channel, Patient, PatientIdentity, PatientNote, Representative
from .phones import format_phone, normalize_phone


def patient_resolve(*, branch: Branch, phone: str = "", full_name: str = "", email: str = "",
                    fill_blanks: bool = False, address: tuple[str, str] | None = None,
                    phone_proven: bool = False) -> tuple[Patient, bool]:
    """Find the patient who owns this phone or messenger address, or create one. Returns (patient, created).

    `address` is (channel, id) of a messenger account, a mailbox or the like; `phone` is normalised to E.164
    first, so every spelling of one number is one patient. The address decides first (the account wrote);
    an address not seen before joins the patient who owns the phone it came with (a shared Telegram contact,
    a WhatsApp number), and is created with the patient otherwise. A known patient is changed only with
    `fill_blanks` (someone who may vouch for the person: staff on the phone), and then only empty fields are
    filled; a name never overwrites a known one.

    `phone_proven`: the account itself showed that it owns the phone (a Telegram contact it shared of its own
    number, a WhatsApp message). When the account's card is a stub the messenger made (no phone, no visit) and
    the phone belongs to another card, the stub is merged into that card: reversibly, by a manager. Any other
    card of the account stays as it is (the caller notes it; `phone_owner`): never a guess.
    """
    e164 = normalize_phone(phone) if phone or not address else ""
    patient = _known_by(address) or (_known_by((Channel.PHONE, e164)) if e164 else None)
    if patient and phone_proven and e164:
        patient = _join_proven(patient, e164)
    if patient:
        if address:
            _add_identities(patient, [address, (Channel.PHONE, e164)] if e164 else [address])
        if fill_blanks:
            _fill_blanks(patient, full_name=full_name, email=email)
        return patient, False
    identities = [(channel, value) for channel, value in ((Channel.PHONE, e164), address or ("", "")) if value]
    patient = _new_patient(branch=branch, full_name=full_name, email=email, identities=identities)
    if patient:
        return patient, True
    # Another request registered the same phone or account at the same moment: theirs wins, we join it.
    return next(filter(None, (_known_by(identity) for identity in identities))), False


def _new_patient(*, branch: Branch, full_name: str, email: str, identities: list[tuple[str, str]]) -> Patient | None:
    """A new card with these addresses, or None when another request registered one of them meanwhile.

    Every new-patient inquiry passes here, so no savepoint: the addresses go in with ON CONFLICT DO NOTHING
    (PostgreSQL waits for the other request's commit first), and on a conflict the card and the addresses
    inserted with it are deleted again, inside the caller's transaction.
    """
    with transaction.atomic(savepoint=False):  # all or nothing when called outside a transaction
        patient = Patient.objects.create(branch=branch, full_name=full_name.strip(), email=email.strip())
        inserted = _insert_identities(patient, identities)
        if len(inserted) == len(identities):
            return patient
        PatientIdentity.objects.filter(pk__in=inserted).delete()
        Patient.objects.filter(pk=patient.pk).delete()
        return None


def _insert_identities(patient: Patient, identities: list[tuple[str, str]]) -> list[int]:
    """Insert the addresses nobody owns yet; returns the ids of those inserted. (SQLite ≥ 3.35 for RETURNING.)"""
    if not identities:
        return []
    meta, quote = PatientIdentity._meta, connection.ops.quote_name
    created_at = meta.get_field("created_at").get_db_prep_value(timezone.now(), connection)
    columns = ", ".join(quote(name) for name in ("patient_id", "channel", "address", "created_at"))
    sql = (f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join(['(%s, %s, %s, %s)'] * len(identities))} "
           f"ON CONFLICT ({quote('channel')}, {quote('address')}) DO NOTHING RETURNING {quote('id')}")
    params = [value for channel, address in identities for value in (patient.pk, channel, address, created_at)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _known_by(address: tuple[str, str] | None) -> Patient | None:
    if not address:
        return None
    identity = PatientIdentity.objects.select_related("patient").filter(channel=address[0], address=address[1]).first()
    return _kept_card(identity.patient) if identity else None


def _kept_card(patient: Patient, rows=Patient.objects) -> Patient:
    while patient.merged_into_id is not None:
        patient = rows.get(pk=patient.merged_into_id)
    return patient


def patient_current(patient: Patient) -> Patient:
    """The card that holds this person's data now (itself, or the card it was merged into), its row locked.

    Call it inside the transaction that writes for the patient: a merge starting meanwhile waits for it, and
    one that committed first sends the caller to the kept card, so nothing lands on an emptied card.
    """
    rows = Patient.objects.select_for_update()
    return _kept_card(rows.get(pk=patient.pk), rows)


def phone_owner(e164: str) -> Patient | None:
    """The card this E.164 phone belongs to, if any."""
    return _known_by((Channel.PHONE, e164)) if e164 else None


# The reason the automatic join gives (stored as the merge's reason, in the clinic's language of the moment).
PROVEN_REASON = gettext_noop("the account shared this number")


def _join_proven(account_card: Patient, e164: str) -> Patient:
    """The account proved this phone: its stub card joins the phone's owner (see patient_resolve)."""
    owner = phone_owner(e164)
    if owner is None or owner.pk == account_card.pk or not account_card.is_stub:
        return account_card
    from .merging import patient_merge

    try:
        patient_merge(keep=owner, merge=account_card, by=None, reason=_(PROVEN_REASON))
    except ValidationError:
        pass  # merged by a parallel delivery of the same account
    return _kept_card(Patient.objects.get(pk=account_card.pk))


def _add_identities(patient: Patient, addresses: list[tuple[str, str]]) -> None:
    """Give the patient the addresses nobody owns yet; one owned by another patient stays theirs (merging two
    cards is a person's decision, never a guess)."""
    for channel, value in addresses:
        try:
            with transaction.atomic():
                PatientIdentity.objects.get_or_create(channel=channel, address=value, defaults={"patient": patient})
        except IntegrityError:
            pass  # registered by a parallel delivery


def _fill_blanks(patient: Patient, **values: str) -> None:
    changed = [name for name, value in values.items() if value.strip() and not getattr(patient, name)]
    for name in changed:
        setattr(patient, name, values[name].strip())
    if changed:
        patient.save(update_fields=changed)


def patient_add_identity(*, patient: Patient, channel: str, address: str) -> PatientIdentity:
    if channel == Channel.PHONE:
        address = normalize_phone(address)
    identity, _ = PatientIdentity.objects.get_or_create(channel=channel, address=address,
                                                        defaults={"patient": patient})
    return identity


# The fields of the card's contact form, in the order a note names them. Phones are identities, not a field.
CONTACT_FIELDS = ("full_name", "email", "birth_date", "preferred_channel", "language")


def patient_update(*, patient: Patient, by, branch: Branch, full_name: str, phones: list[str], email: str = "",
                   birth_date: date | None = None, preferred_channel: str = Channel.PHONE,
                   language: str = "ru") -> list[str]:
    """The front desk corrects a card's contacts. Returns the names of the fields that changed.

    Phones follow the rules of every other path: normalised to E.164, and a number that belongs to another
    patient is refused (one person, one patient; merging cards is a separate decision). A change writes a
    note at `branch` naming the fields, never the values: old values would outlive the retention purge.
    Who may change the card (and the access-log row) is the caller's gate: `gates.patient_for_user(write=True)`.
    """
    wanted = _normalized_phones(phones)
    values = {"full_name": full_name.strip(), "email": email.strip(), "birth_date": birth_date,
              "preferred_channel": preferred_channel, "language": language}
    if birth_date and birth_date > timezone.localdate():
        raise ValidationError({"birth_date": _("The birth date cannot be in the future.")})
    changed = [name for name in CONTACT_FIELDS if getattr(patient, name) != values[name]]
    for name in changed:
        setattr(patient, name, values[name])
    patient.full_clean(exclude=["branch", "mis_id", "created_at"])
    with transaction.atomic():
        if changed:
            patient.save(update_fields=changed)
        if _replace_phones(patient, wanted):
            changed.append("phones")
        if changed:
            PatientNote.objects.create(patient=patient, branch=branch, author=by, body=_contacts_changed_note(changed))
    return changed


def _normalized_phones(phones: list[str]) -> list[str]:
    wanted = []
    for raw in phones:
        if not raw.strip():
            continue
        try:
            e164 = normalize_phone(raw)
        except ValidationError as exc:
            raise ValidationError({"phones": exc.messages}) from None
        if e164 not in wanted:
            wanted.append(e164)
    if not wanted:
        raise ValidationError({"phones": _("Keep at least one phone number on the card.")})
    return wanted


def _replace_phones(patient: Patient, wanted: list[str]) -> bool:
    """Make the card's phones exactly `wanted`. True when anything changed."""
    current = set(patient.identities.filter(channel=Channel.PHONE).values_list("address", flat=True))
    added, removed = [p for p in wanted if p not in current], current - set(wanted)
    for e164 in added:
        try:
            # A savepoint: the unique address constraint is the real check when two desks save at once.
            with transaction.atomic():
                PatientIdentity.objects.create(patient=patient, channel=Channel.PHONE, address=e164)
        except IntegrityError:
            raise ValidationError({"phones": _(
                "%(phone)s belongs to another patient's card: find that card instead of copying the number."
            ) % {"phone": format_phone(e164)}}) from None
    patient.identities.filter(channel=Channel.PHONE, address__in=removed).delete()
    return bool(added or removed)


def _contacts_changed_note(changed: list[str]) -> str:
    labels = [_("phones") if name == "phones" else str(Patient._meta.get_field(name).verbose_name) for name in changed]
    return _("Contacts changed: %(fields)s") % {"fields": ", ".join(labels)}


def patient_note_add(*, patient: Patient, branch: Branch, by, body: str) -> PatientNote:
    """A note on the card, kept at the writer's branch."""
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("Write the note first.")})
    note = PatientNote(patient=patient, branch=branch, author=by, body=body)
    note.full_clean()
    note.save()
    return note


def patient_add_dependant(*, representative: Patient, full_name: str, birth_date: date | None = None,
                          relation: str, by) -> Patient:
    """A person the representative acts for (a child, a ward), who has no phone or account of their own: a new
    patient at the representative's home branch, linked to them. Messages about them go to the representative."""
    full_name = full_name.strip()
    errors = {}
    if not full_name:
        errors["full_name"] = _("Give the name of the person represented.")
    if birth_date and birth_date > timezone.localdate():
        errors["birth_date"] = _("The birth date cannot be in the future.")
    if relation not in Representative.Relation.values:
        errors["relation"] = _relation_unknown(relation)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        dependant = Patient(branch=representative.branch, full_name=full_name, birth_date=birth_date,
                            language=representative.language)
        dependant.full_clean(exclude=["mis_id", "created_at"])
        dependant.save()
        Representative.objects.create(representative=representative, patient=dependant, relation=relation,
                                      created_by=by)
    return dependant


def representative_link(*, representative: Patient, patient: Patient, relation: str, by) -> Representative:
    """Record that `representative` acts for `patient` (two cards that exist already: a mother and her grown-up
    son who also calls himself). Linking a pair twice is refused with the link there is."""
    if representative.pk == patient.pk:
        raise ValidationError({"patient": _("A person cannot represent themselves.")})
    if relation not in Representative.Relation.values:
        raise ValidationError({"relation": _relation_unknown(relation)})
    try:
        with transaction.atomic():
            return Representative.objects.create(representative=representative, patient=patient, relation=relation,
                                                 created_by=by)
    except IntegrityError:
        raise ValidationError({"patient": _("%(representative)s already acts for %(patient)s.") % {
            "representative": representative, "patient": patient}}) from None


def representative_unlink(*, representative: Patient, patient: Patient, by) -> bool:
    """The representative no longer acts for the patient (a child grown up, a guardianship ended). True when a
    link was removed; neither person's card changes."""
    removed, _details = Representative.objects.filter(representative=representative, patient=patient).delete()
    return bool(removed)


def patient_reach(patient: Patient) -> list[PatientIdentity]:
    """The addresses at which to reach `patient`: their own, else those of the people who act for them
    (messages about a child go to the guardian), the earliest linked first."""
    own = list(patient.identities.all())
    if own:
        return own
    return list(PatientIdentity.objects.filter(patient__represents__patient=patient)
                .order_by("patient__represents__created_at", "patient__represents__id", "channel", "id"))


def _relation_unknown(relation: str) -> str:
    return _("Unknown relation “%(relation)s”.") % {"relation": relation}
