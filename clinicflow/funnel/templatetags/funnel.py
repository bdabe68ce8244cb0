from django import template

from clinicflow.funnel.models import Stage

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
