"""The server error page, and a database that cannot be reached for a moment.

While PostgreSQL restarts (or a transaction is chosen as a deadlock's victim, or a statement times out) the
request fails with an OperationalError or InterfaceError: nothing was changed, and the same request
succeeds moments later. Such a request is answered 503 Service Unavailable with Retry-After and a page that
says so (templates/503.html), rather than 500. Every other error keeps Django's 500 page (templates/500.html).
Either way Django has already logged the error with its traceback.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token

RETRY_AFTER_SECONDS = 30


@requires_csrf_token
def server_error(request):
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError):
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return defaults.server_error(request)
