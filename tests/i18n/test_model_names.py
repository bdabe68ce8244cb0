"""Settings and the delete confirmations name models and their fields: in Russian, in Russian words.

Django makes a name nobody marked from the field ("branches", "created at"): a plain English string, so
a Russian clinic admin read «Добавить branch». Every model people meet, and every field Settings shows,
has a name marked for translation.
"""

import re

from django.apps import apps
from django.contrib import admin
from django.utils import translation

CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
# Machinery nobody sees by name: rate-limit counters and the access log's chain head.
UNSEEN_MODELS = {"core.ratelimitwindow", "compliance.accessloghead"}
# Fields Settings never shows (excluded or not editable): their names stay as Django makes them.
UNSEEN_FIELDS = {"accounts.apitoken.key_hash", "automation.job.payload", "automation.job.patient_id",
                 "automation.job.branch_id"}


def in_russian(text) -> bool:
    with translation.override("ru"):
        return bool(CYRILLIC.search(str(text)))


def our_models():
    return [model for model in apps.get_models() if model.__module__.startswith("clinicflow.")
            and model._meta.label_lower not in UNSEEN_MODELS]


def shown_in_settings():
    """Models of the Settings screens: registered ones and their inlines."""
    shown = set()
    for model, model_admin in admin.site._registry.items():
        if model.__module__.startswith("clinicflow."):
            shown.add(model)
            shown.update(inline.model for inline in model_admin.inlines)
    return shown


def test_every_model_people_meet_has_a_russian_name():
    english = [f"{model._meta.label}: {name}" for model in our_models()
               for name in (model._meta.verbose_name, model._meta.verbose_name_plural) if not in_russian(name)]
    assert not english, "Give the model verbose_name and verbose_name_plural with _():\n" + "\n".join(english)


def test_every_field_settings_shows_has_a_russian_label():
    english = [f"{model._meta.label}.{field.name}: {field.verbose_name}" for model in shown_in_settings()
               for field in model._meta.get_fields()
               if hasattr(field, "verbose_name") and not field.auto_created
               and f"{model._meta.label_lower}.{field.name}" not in UNSEEN_FIELDS
               and not in_russian(field.verbose_name)]
    assert not english, "Give the field verbose_name=_(…) (and a migration):\n" + "\n".join(english)


def test_every_section_of_settings_has_a_russian_heading():
    english = [config.label for config in apps.get_app_configs()
               if config.name.startswith("clinicflow.") and not in_russian(config.verbose_name)]
    assert not english, "Give the AppConfig verbose_name = _(…):\n" + "\n".join(english)


def test_the_card_says_where_a_consent_was_given_in_words():
    from clinicflow.compliance.models import Consent

    with translation.override("ru"):
        assert Consent(source="staff").source_label == "на стойке регистратуры"
        assert Consent(source="web").source_label == "Сайт"
        assert Consent(source="import-2026").source_label == "import-2026"  # unknown: shown as recorded
