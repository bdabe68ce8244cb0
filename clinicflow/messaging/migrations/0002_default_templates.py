"""Default message templates in Russian and English. They name the clinic, the date and the time only:
never the doctor, service or specialty, since the fact of a visit to a given specialist is medical secrecy
and a message may be read by anyone who sees the patient's screen."""

from django.db import migrations

DEFAULTS = {
    "reminder": {
        "ru": "{first_name}, напоминаем о записи в {clinic} {date} в {time}. Если планы изменились, ответьте на "
              "это сообщение.",
        "en": "{first_name}, a reminder of your appointment at {clinic} on {date} at {time}. If your plans have "
              "changed, reply to this message.",
    },
    "confirmation": {
        "ru": "{first_name}, вы записаны в {clinic} {date} в {time}. Ответьте 1, чтобы подтвердить, или 2, "
              "чтобы отменить.",
        "en": "{first_name}, you are booked at {clinic} on {date} at {time}. Reply 1 to confirm or 2 to cancel.",
    },
    "rebooking": {
        "ru": "{first_name}, {clinic} напоминает: пора записаться на следующий визит. Ответьте, и мы подберём "
              "время.",
        "en": "{first_name}, {clinic} here: it is time to book your next visit. Reply and we will find a time.",
    },
    "review_request": {
        "ru": "{first_name}, спасибо, что выбрали {clinic}. Оцените, пожалуйста, визит: {link}",
        "en": "{first_name}, thank you for choosing {clinic}. Please rate your visit: {link}",
    },
    "greeting": {
        "ru": "{first_name}, {clinic} поздравляет вас с днём рождения!",
        "en": "{first_name}, happy birthday from {clinic}!",
    },
    "opt_out": {
        "ru": "Вы отписались от рекламных сообщений {clinic}. Сообщения о ваших записях продолжат приходить.",
        "en": "You have unsubscribed from {clinic}'s marketing messages. Messages about your appointments will "
              "still come.",
    },
}


def create_default_templates(apps, schema_editor):
    MessageTemplate = apps.get_model("messaging", "MessageTemplate")
    for purpose, texts in DEFAULTS.items():
        for language, body in texts.items():
            MessageTemplate.objects.get_or_create(purpose=purpose, channel="", language=language,
                                                  defaults={"body": body})


class Migration(migrations.Migration):
    dependencies = [("messaging", "0001_initial")]
    operations = [migrations.RunPython(create_default_templates, migrations.RunPython.noop)]
