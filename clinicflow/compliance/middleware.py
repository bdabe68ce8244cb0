from .services import current_request


class AccessLogMiddleware:
    """Make the request being served known to the access log (address, browser, API token)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        reset = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(reset)
