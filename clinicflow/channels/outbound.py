"""How channel modules call their provider's API: with timeouts, and every failure to get an answer turned into
`SendFailed`, so that the sender (the messaging outbox) decides about retries from one exception."""

import httpx

from .base import SendFailed

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def provider_post(url: str, *, provider: str, **kwargs) -> httpx.Response:
    """POST to a provider. No answer, a 5xx or a 429 is worth another try later; any other answer is returned for
    the caller to read (each provider words its refusals its own way)."""
    try:
        response = httpx.post(url, timeout=TIMEOUT, **kwargs)
    except httpx.HTTPError as exc:
        # Only the exception's name: its text may hold the URL, and some providers put the token there.
        raise SendFailed(f"{provider} unreachable ({type(exc).__name__})", retry=True) from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise SendFailed(f"{provider} answered HTTP {response.status_code}", retry=True)
    return response


def answer_json(response: httpx.Response, *, provider: str) -> dict:
    """The provider's JSON answer. An unreadable one is not retried: the message may have gone out already."""
    try:
        found = response.json()
    except ValueError as exc:
        raise SendFailed(f"{provider} answered HTTP {response.status_code} with no JSON") from exc
    if not isinstance(found, dict):
        raise SendFailed(f"{provider} answered HTTP {response.status_code} with unexpected JSON")
    return found
