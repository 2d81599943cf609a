"""Response headers that no Django setting sends."""

from django.conf import settings


class PermissionsPolicyMiddleware:
    """Permissions-Policy: every feature in settings.PERMISSIONS_POLICY refused to every origin, e.g.
    `camera=(), microphone=()`. A response that already has the header keeps it."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(f"{feature}=()" for feature in settings.PERMISSIONS_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Permissions-Policy", self.header)
        return response
