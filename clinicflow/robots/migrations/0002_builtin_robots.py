"""The clinic playbook: built-in robots, most on by default, and the patient journeys, off by default.

Names are stored in English and are the clinic's to rename; each built-in keeps its code so that running
this again (tests put data back after a flush) creates nothing twice.
"""

from django.db import migrations

DAY, HOUR = 1440, 60
BUILTINS = [
    # (code, name, stage, trigger, timing, offset minutes, action, extra fields, enabled)
    ("new_inquiry", "New inquiry notification", "new", "inquiry_received", "immediately", 0, "notify_staff",
     {"role": "receptionist", "task_title": "New inquiry in the queue"}, True),
    ("escalation", "Escalation when unanswered", "new", "no_response", "immediately", 0, "escalate", {}, True),
    ("reminder_1w", "Reminder a week before", "reminder", "booked", "before_visit", 7 * DAY, "send_message",
     {"purpose": "reminder"}, False),
    ("reminder_24h", "Reminder 24 h before, asks to confirm", "reminder", "booked", "before_visit", DAY,
     "send_message", {"purpose": "confirmation"}, True),
    ("reminder_2h", "Reminder 2 h before", "reminder", "booked", "before_visit", 2 * HOUR, "send_message",
     {"purpose": "reminder"}, False),
    ("confirm_by_reply", "Confirmation by reply", "reminder", "reply_received", "immediately", 0,
     "confirm_by_reply", {}, True),
    ("rebooking_7d", "Rebooking offer after 7 days", "rebooking", "completed", "after_visit", 7 * DAY,
     "send_message", {"purpose": "rebooking", "future_visit": "no"}, False),
    ("rebooking_14d", "Rebooking offer after 14 days", "rebooking", "completed", "after_visit", 14 * DAY,
     "send_message", {"purpose": "rebooking", "future_visit": "no"}, False),
    ("rebooking_30d", "Rebooking offer after 30 days", "rebooking", "completed", "after_visit", 30 * DAY,
     "send_message", {"purpose": "rebooking", "future_visit": "no"}, True),
    ("review_request", "Review request after the visit", "review", "completed", "after_visit", 3 * HOUR,
     "send_message", {"purpose": "review_request"}, True),
    ("birthday", "Birthday greeting", "", "birthday", "immediately", 0, "send_message", {"purpose": "greeting"},
     True),
    # Patient journeys: chains of the same parts, off until the clinic writes their texts and turns them on.
    ("journey_instructions", "Instructions before the visit", "reminder", "booked", "before_visit", 2 * DAY,
     "send_message", {"purpose": "custom", "journey": "instructions"}, False),
    ("journey_check_in", "Check-in the day after the visit", "completed", "completed", "after_visit", DAY,
     "send_message", {"purpose": "custom", "journey": "check_in"}, False),
    ("journey_survey", "Short survey two days after the visit", "review", "completed", "after_visit", 2 * DAY,
     "send_message", {"purpose": "review_request", "journey": "survey"}, False),
    ("journey_win_back", "Win-back call after a cancelled visit", "booking", "cancelled", "delay", DAY,
     "create_task", {"role": "receptionist", "task_title": "Offer a new time after a cancelled visit",
                     "future_visit": "no", "journey": "win_back"}, False),
]


def create_builtin_robots(apps, schema_editor):
    Robot = apps.get_model("robots", "Robot")
    for position, (code, name, stage, trigger, timing, offset, action, extra, enabled) in enumerate(BUILTINS):
        Robot.objects.get_or_create(builtin=code, defaults={
            "name": name, "stage": stage, "trigger": trigger, "timing": timing, "offset_minutes": offset,
            "action": action, "enabled": enabled, "position": position, **extra})


class Migration(migrations.Migration):
    dependencies = [("robots", "0001_initial")]
    operations = [migrations.RunPython(create_builtin_robots, migrations.RunPython.noop)]
