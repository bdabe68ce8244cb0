"""The robots' job kinds and event listeners, registered with the engine when the app is ready."""

from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from clinicflow.automation import events
from clinicflow.automation.events import event_listener
from clinicflow.automation.registry import job_describer, job_handler, periodic_job

from .services import (
    BIRTHDAYS_JOB,
    RUN_JOB,
    robot_job_labels,
    robot_run,
    robots_birthdays,
    robots_on_appointment,
    robots_on_inquiry,
    robots_on_reply,
    robots_on_stage,
)


@job_handler(RUN_JOB, label=_("Robot"))
def run_robot(job) -> str:
    return robot_run(job=job)


@job_handler(BIRTHDAYS_JOB, label=_("Birthday greetings"), lease_seconds=1800)
def greet_birthdays(job) -> str:
    return f"{robots_birthdays()} greeting(s)"


job_describer(RUN_JOB)(robot_job_labels)
periodic_job(BIRTHDAYS_JOB, every=timedelta(days=1))

event_listener(events.APPOINTMENT_BOOKED, events.APPOINTMENT_RESCHEDULED, events.APPOINTMENT_CANCELLED,
               events.APPOINTMENT_CONFIRMED, events.APPOINTMENT_COMPLETED,
               events.APPOINTMENT_NO_SHOW)(robots_on_appointment)
event_listener(events.INQUIRY_RECEIVED)(robots_on_inquiry)
event_listener(events.STAGE_ENTERED)(robots_on_stage)
event_listener(events.REPLY_RECEIVED)(robots_on_reply)
