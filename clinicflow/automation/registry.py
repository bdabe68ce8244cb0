"""Job kinds and their handlers.

Apps register handlers in their AppConfig.ready() so automation never imports the apps above it.
A handler takes the Job and returns a short result text; it must re-check that its reason still
holds, because the world may have moved on since the job was planned.
"""

from collections.abc import Callable

handlers: dict[str, Callable] = {}
labels: dict[str, str] = {}


def job_handler(kind: str, label: str = ""):
    """Register `func` to run jobs of `kind`; `label` is what people see (e.g. on the patient card)."""

    def register(func: Callable) -> Callable:
        handlers[kind] = func
        labels[kind] = label or kind
        return func

    return register
