"""The security headers: a Content-Security-Policy with no inline script or style allowed, a Permissions-Policy
that refuses the browser features the site never uses, no Server header from gunicorn; the templates have
nothing inline the policy would refuse; persistent database connections are checked before reuse.

tests/e2e/test_content_security_policy.py opens every page in Chromium under the policy.
"""

import queue
import re
import socket
import subprocess
import sys
import threading
import time
from http.client import HTTPConnection
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
DENIED_FEATURES = ["camera", "microphone", "geolocation", "payment", "usb"]


def directives(header):
    """{"script-src": ["'self'"], ...} from a Content-Security-Policy header."""
    parsed = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def pages(personas, city):
    return {
        "sign-in (anonymous)": (None, reverse("accounts:login")),
        "home (member)": (personas.member, reverse("home")),
        "organisations (board)": (personas.board, reverse("organizations:list")),
        "members (secretary)": (personas.secretary_a1, reverse("members:list")),
        "not found (secretary)": (personas.secretary_a1, reverse("organizations:detail", args=[city.city.code])),
        "admin (board)": (personas.board, reverse("admin:index")),
        "admin sign-in (anonymous)": (None, reverse("admin:login")),
    }


@pytest.fixture
def answers(personas, city, client_for):
    found = {}
    for name, (user, url) in pages(personas, city).items():
        found[name] = client_for(user).get(url)
    return found


def test_every_page_has_a_policy_with_no_inline_script_or_style(answers):
    statuses = {name: response.status_code for name, response in answers.items()}
    assert statuses["not found (secretary)"] == 404 and statuses["home (member)"] == 200
    for name, response in answers.items():
        policy = directives(response.headers["Content-Security-Policy"])
        assert policy["default-src"] == ["'self'"], name
        assert policy["script-src"] == ["'self'"], name
        assert policy["style-src"] == ["'self'"], name
        assert policy["object-src"] == ["'none'"], name
        assert policy["base-uri"] == ["'none'"], name
        assert policy["frame-ancestors"] == ["'none'"], name
        assert policy["form-action"] == ["'self'"], name
        for sources in policy.values():
            assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:"} & set(sources), name


def test_every_page_refuses_the_browser_features_the_site_never_uses(answers):
    for name, response in answers.items():
        entries = [entry.strip() for entry in response.headers["Permissions-Policy"].split(",")]
        # Each feature denied to every origin: "feature=()".
        assert all(re.fullmatch(r"[a-z-]+=\(\)", entry) for entry in entries), (name, entries)
        assert {f"{feature}=()" for feature in DENIED_FEATURES} <= set(entries), name


def test_a_static_file_has_the_headers_too(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "camera=()" in response.headers["Permissions-Policy"]


def test_a_page_with_its_own_permissions_policy_keeps_it(rf, settings):
    from django.http import HttpResponse

    from config.middleware import PermissionsPolicyMiddleware

    own = HttpResponse()
    own.headers["Permissions-Policy"] = "fullscreen=(self)"
    assert PermissionsPolicyMiddleware(lambda request: own)(rf.get("/")).headers["Permissions-Policy"] == (
        "fullscreen=(self)"
    )
    plain = PermissionsPolicyMiddleware(lambda request: HttpResponse())(rf.get("/"))
    assert plain.headers["Permissions-Policy"].startswith("accelerometer=()")


def test_persistent_connections_are_checked_before_reuse():
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


# --- Nothing inline in the templates ------------------------------------------------------------------

# An inline script (a <script> without src that is not a JSON data block), an event handler attribute, a
# javascript: URL, a <style> element or a style attribute.
INLINE = [
    ("inline script", re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)),
    ("event handler", re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)),
    ("javascript: URL", re.compile(r"""(?:href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.I)),
    ("style element", re.compile(r"<style[\s>]", re.I)),
    ("style attribute", re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I)),
]


def inline_content(text):
    """The kinds of inline content in a template's text, with the offending excerpt."""
    # Django comments may mention anything.
    text = re.sub(r"\{#.*?#\}", "", text)
    text = re.sub(r"\{% comment %\}.*?\{% endcomment %\}", "", text, flags=re.S)
    return [(kind, match.group(0)[:80]) for kind, pattern in INLINE for match in pattern.finditer(text)]


def template_files():
    roots = [ROOT / "templates", *(path for path in ROOT.glob("*/templates") if path.parent.name != ".venv")]
    return sorted(path for root in roots for path in root.rglob("*.html"))


def test_the_scan_finds_inline_content():
    found = inline_content(
        '<script>alert(1)</script><button onclick="go()">x</button><a href="javascript:go()">y</a>'
        '<style>p{}</style><td style="width: 3rem">'
    )
    assert [kind for kind, _ in found] == [kind for kind, _ in INLINE]


def test_the_scan_leaves_files_and_data_alone():
    assert (
        inline_content(
            '<script src="/static/js/app.js" defer></script><script id="x" type="application/json">{}</script>'
            '<button data-confirm="Sure?" class="stylish">x</button>{# <style> and onclick= in a comment #}'
            '<link rel="stylesheet" href="/static/css/app.css"><span data-onboard="1">'
        )
        == []
    )


def test_no_template_has_inline_script_or_style():
    files = template_files()
    assert len(files) > 40
    found = {str(path.relative_to(ROOT)): inline_content(path.read_text()) for path in files}
    assert {name: kinds for name, kinds in found.items() if kinds} == {}


# --- gunicorn -------------------------------------------------------------------------------------------


@pytest.fixture
def gunicorn_server(tmp_path):
    """gunicorn with the repository's configuration on a free port, serving the development settings on a
    throwaway SQLite database; its address."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "HOME": str(tmp_path),
    }
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "config/gunicorn.conf.py", "--bind", "127.0.0.1:0"]
        + ["--workers", "1", "--log-level", "info"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Its log read by a thread of its own: lines that came together wait in the pipe's reader, where a
    # select() on the pipe no longer sees them (the port's line then went unread).
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True).start()
    port, deadline, log = None, time.monotonic() + 90, []
    while port is None and time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        log.append(line)
        found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line)
        port = int(found.group(1)) if found else None
    try:
        assert port, "".join(log)
        for _ in range(100):  # the worker boots after the master listens
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_gunicorn_sends_no_server_header(gunicorn_server):
    for path in ("/accounts/login/", "/static/css/app.css"):
        connection = HTTPConnection("127.0.0.1", gunicorn_server, timeout=30)
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        assert response.status == 200, path
        assert response.getheader("Server") is None, path
        assert "script-src 'self'" in response.getheader("Content-Security-Policy"), path
        connection.close()
    # gunicorn's own answer to a malformed request has none either.
    with socket.create_connection(("127.0.0.1", gunicorn_server), timeout=30) as raw:
        raw.sendall(b"NOT HTTP\r\n\r\n")
        answer = raw.recv(4096)
    assert answer.startswith(b"HTTP/1.1 400")
    assert b"\r\nserver:" not in answer.lower()


def test_the_configuration_removes_gunicorns_own_banner():
    """The check can fail: gunicorn's own default headers carry `Server: gunicorn`; the configuration file,
    once loaded, leaves it out and keeps the others."""
    import runpy

    import gunicorn.http.wsgi

    class Request:
        version = (1, 1)
        method = "GET"

        def should_close(self):
            return False

    response = gunicorn.http.wsgi.Response(Request(), None, None)
    response.status = "200 OK"
    response.response_length = 0
    current = gunicorn.http.wsgi.Response.default_headers
    original = getattr(current, "original", current)
    assert any(line.startswith("Server: gunicorn") for line in original(response))

    runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))
    headers = gunicorn.http.wsgi.Response.default_headers(response)
    assert not any(line.lower().startswith("server:") for line in headers)
    assert any(line.startswith("Date: ") for line in headers) and headers[0].startswith("HTTP/1.1 200")
