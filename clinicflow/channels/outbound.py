"""How channel modules call their provider's API: with timeouts, and every failure to get an answer turned into
`SendFailed`, so that the sender (the messaging outbox) decides about retries from one exception."""

import os
import threading
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx

from .base import SendFailed

TIMEOUT = httpx.Timeout(10.0, connect=5.0)

_client: httpx.Client | None = None
_client_pid = 0
_client_lock = threading.Lock()


def provider_client() -> httpx.Client:
    """The process's one HTTP client for provider calls.

    A new client per call costs ~40 ms of CPU (it loads the CA bundle into a new SSL context) and a new TLS
    handshake; one per process keeps its connections alive, which is what lets a worker send hundreds of
    messages a second. It is thread-safe; a forked child makes its own (sockets must not be shared). It keeps
    no cookies, so one call never carries what an earlier answer set, as a client per call did not.
    """
    global _client, _client_pid
    with _client_lock:
        if _client is None or _client_pid != os.getpid():
            _client = httpx.Client(timeout=TIMEOUT, cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])))
            _client_pid = os.getpid()
        return _client


def provider_post(url: str, *, provider: str, **kwargs) -> httpx.Response:
    """POST to a provider. No answer, a 5xx or a 429 is worth another try later; any other answer is returned for
    the caller to read (each provider words its refusals its own way)."""
    try:
        response = provider_client().post(url, **kwargs)
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
