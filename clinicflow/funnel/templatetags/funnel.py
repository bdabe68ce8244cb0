from django import template

from clinicflow.funnel.models import LostReason, Stage
from clinicflow.funnel.services import lost_reasons_offered

register = template.Library()


@register.filter
def stage_label(value: str) -> str:
    return Stage(value).label if value in Stage.values else value


@register.filter
def answer_for(case, question) -> str:
    """The stored intake answer to a question, as the raw value a form field needs."""
    return str(case.intake.get(question.key, ""))


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key, "")


@register.simple_tag
def lost_reasons() -> list[LostReason]:
    """The clinic's list, for move forms rendered by pages of other apps (the inquiry page's case panel)."""
    return lost_reasons_offered()
