"""gunicorn's settings for the site: `gunicorn -c config/gunicorn.conf.py` (the README's deployment).

Command-line options still win, e.g. `--bind 127.0.0.1:8050 --workers 4`. GUNICORN_BIND and GUNICORN_WORKERS
set the two that change between machines.

No Server header: gunicorn 27 writes `Server: gunicorn` on every response itself, before the application's
headers, and has no setting to leave it out. The response's default headers are filtered here, once, in the
master process before the workers are forked (tests/test_headers.py starts gunicorn with this file and
checks). gunicorn's own error pages (a malformed request) carry no Server header either. The reverse proxy
in front should not add its own: `server_tokens off;` in nginx still sends `Server: nginx`, without the version.
"""

import os

import gunicorn.http.wsgi

wsgi_app = "config.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
accesslog = "-"
# A worker that handles no request for this long is killed and replaced (gunicorn's default is 30 s).
timeout = 60
# No control socket (gunicorn 25.1+ opens one in the home directory by default): nothing manages the
# server at run time but systemd, and two instances on one machine would share the path.
control_socket_disable = True


def _without_server_header(default_headers):
    def headers(self):
        return [line for line in default_headers(self) if not line.lower().startswith("server:")]

    headers.without_server = True
    headers.original = default_headers
    return headers


if not getattr(gunicorn.http.wsgi.Response.default_headers, "without_server", False):
    gunicorn.http.wsgi.Response.default_headers = _without_server_header(gunicorn.http.wsgi.Response.default_headers)
