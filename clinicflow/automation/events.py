"""Domain events, called by the app where something happened, heard by the apps above it.

Scheduling, the funnel and the inbox say "an appointment was booked" with `event_emit`; robots (a higher
layer) register listeners in their AppConfig.ready() with `event_listener`, so no lower app imports them.
Listeners run at once, inside the caller's transaction: the jobs they plan are written with their cause,
or not at all.
"""

from collections.abc import Callable

# The events the domain emits, and the ids each carries.
APPOINTMENT_BOOKED = "appointment.booked"  # appointment_id
APPOINTMENT_RESCHEDULED = "appointment.rescheduled"  # appointment_id
APPOINTMENT_CANCELLED = "appointment.cancelled"  # appointment_id
APPOINTMENT_CONFIRMED = "appointment.confirmed"  # appointment_id
APPOINTMENT_COMPLETED = "appointment.completed"  # appointment_id
APPOINTMENT_NO_SHOW = "appointment.no_show"  # appointment_id
STAGE_ENTERED = "case.stage_entered"  # case_id
INQUIRY_RECEIVED = "inquiry.received"  # inquiry_id
REPLY_RECEIVED = "inquiry.reply_received"  # inquiry_id, message_id

listeners: dict[str, list[Callable]] = {}


def event_listener(*names: str):
    """Register `func(name, **ids)` to hear the events `names`."""

    def register(func: Callable) -> Callable:
        for name in names:
            if func not in listeners.setdefault(name, []):
                listeners[name].append(func)
        return func

    return register


def event_emit(name: str, **ids) -> None:
    """Tell the listeners of `name` what happened, by ids (and, where the caller has it in hand, the object
    itself, so that a listener need not read it again). In the caller's transaction: a listener that fails
    rolls the cause back with it, so a booking never stands without its reminders."""
    for listener in listeners.get(name, ()):
        listener(name, **ids)
