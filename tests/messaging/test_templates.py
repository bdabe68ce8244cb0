"""Templates: variables checked on save, a preview, and defaults that never reveal what the visit is for."""

import re

import pytest
from django.core.exceptions import ValidationError

from clinicflow.messaging.models import VARIABLES, MessageTemplate, Purpose
from clinicflow.messaging.services import message_queue, message_template_save, template_for

pytestmark = pytest.mark.django_db


class TestValidation:
    def test_an_unknown_variable_is_refused_on_save_naming_the_field(self):
        with pytest.raises(ValidationError) as refused:
            message_template_save(purpose=Purpose.REMINDER, language="en", body="See you for {service} at {time}")
        assert "{service}" in refused.value.message_dict["body"][0]

    def test_the_model_refuses_it_too(self):
        template = MessageTemplate(purpose=Purpose.REMINDER, language="en", body="Dear {patient.name}")
        with pytest.raises(ValidationError) as refused:
            template.full_clean()
        assert "body" in refused.value.message_dict

    def test_a_stray_brace_is_refused(self):
        with pytest.raises(ValidationError) as refused:
            message_template_save(purpose=Purpose.REMINDER, language="en", body="At {time")
        assert "body" in refused.value.message_dict

    def test_a_good_template_replaces_the_one_for_its_purpose_channel_and_language(self):
        saved = message_template_save(purpose=Purpose.REMINDER, language="en", body="{first_name}: {date} {time}")
        assert MessageTemplate.objects.get(purpose=Purpose.REMINDER, language="en", channel="").pk == saved.pk
        assert saved.body == "{first_name}: {date} {time}"

    def test_the_preview_fills_in_sample_values(self):
        template = MessageTemplate(purpose=Purpose.REMINDER, language="en", body="{first_name}, {date} at {time}")
        assert template.preview() == "Anna, 12.03.2027 at 10:30"


class TestChoice:
    def test_a_channels_own_template_wins_over_the_any_channel_one(self):
        own = message_template_save(purpose=Purpose.REMINDER, language="en", channel="sms", body="SMS {time}")
        assert template_for(purpose=Purpose.REMINDER, channel="sms", language="en") == own
        assert template_for(purpose=Purpose.REMINDER, channel="telegram", language="en").channel == ""

    def test_the_patients_language_is_used(self, anna, visit, providers):
        anna.language = "en"
        anna.save()
        message = message_queue(patient=anna, purpose=Purpose.REMINDER, key="r:1", appointment=visit)
        assert "appointment" in message.body

    def test_no_template_for_a_purpose_is_a_clear_error(self, anna):
        with pytest.raises(ValidationError) as refused:
            message_queue(patient=anna, purpose=Purpose.CAMPAIGN, key="c:1")
        assert "template" in refused.value.message_dict


class TestDefaults:
    def test_there_is_a_default_in_russian_and_english_for_each_robot_purpose(self):
        for purpose in (Purpose.REMINDER, Purpose.CONFIRMATION, Purpose.REBOOKING, Purpose.REVIEW_REQUEST,
                        Purpose.GREETING, Purpose.OPT_OUT):
            languages = set(MessageTemplate.objects.filter(purpose=purpose).values_list("language", flat=True))
            assert languages == {"ru", "en"}, purpose

    def test_no_default_names_the_doctor_service_or_specialty(self, cardiology, consultation, doctor):
        # The fact of a visit to a given specialist is medical secrecy: the defaults name clinic, date and time.
        for template in MessageTemplate.objects.all():
            names = set(re.findall(r"{(\w+)}", template.body))
            assert names <= set(VARIABLES) - {"doctor"}, template
            text = template.preview().lower()
            for secret in ("service", "specialty", "услуг", "специал", "врач", "doctor", "cardiolog", "кардиол"):
                assert secret not in text, (template, secret)

    def test_a_rendered_reminder_names_neither_service_nor_specialty(self, anna, visit, consultation, providers):
        visit.service = consultation
        visit.save()
        message = message_queue(patient=anna, purpose=Purpose.REMINDER, key="r:1", appointment=visit)
        assert "Cardio" not in message.body and "Petrova" not in message.body
