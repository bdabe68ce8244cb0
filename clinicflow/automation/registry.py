"""Job kinds and their handlers.

Apps register handlers in their AppConfig.ready() so automation never imports the apps above it.
A handler takes the Job and returns a short result text; it must re-check that its reason still
holds, because the world may have moved on since the job was planned.
"""

from collections.abc import Callable

handlers: dict[str, Callable] = {}


def job_handler(kind: str):
    def register(func: Callable) -> Callable:
        handlers[kind] = func
        return func

    return register
