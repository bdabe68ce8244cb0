from django.db import IntegrityError, transaction

from clinicflow.clinic.models import Branch

from .models import Channel, Patient, PatientIdentity
from .phones import normalize_phone


def patient_resolve(*, branch: Branch, phone: str = "", full_name: str = "", email: str = "",
                    fill_blanks: bool = False) -> tuple[Patient, bool]:
    """Find the patient who owns this phone, or create one. Returns (patient, created).

    The phone is normalised to E.164 first, so every spelling of one number is one patient. A known
    patient is changed only with `fill_blanks` (someone who may vouch for the person: staff on the phone),
    and then only empty fields are filled; a name never overwrites a known one.
    """
    e164 = normalize_phone(phone)
    identity = PatientIdentity.objects.select_related("patient").filter(channel=Channel.PHONE, address=e164).first()
    if identity:
        patient = identity.patient
        if fill_blanks:
            _fill_blanks(patient, full_name=full_name, email=email)
        return patient, False
    try:
        with transaction.atomic():
            patient = Patient.objects.create(branch=branch, full_name=full_name.strip(), email=email.strip())
            PatientIdentity.objects.create(patient=patient, channel=Channel.PHONE, address=e164)
            return patient, True
    except IntegrityError:
        # Another request registered the same phone at the same moment: theirs wins, we join it.
        identity = PatientIdentity.objects.select_related("patient").get(channel=Channel.PHONE, address=e164)
        return identity.patient, False


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
