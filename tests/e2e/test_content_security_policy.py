"""The site works in Chromium under its Content-Security-Policy: every page each persona may open (every
row of the URL matrix answering 200 for them), and the admin's pages for a superuser, load with no policy
violation, no console error or warning and no script error.

Two witnesses, so that neither can miss one alone: the console (Chromium reports each refused inline script
or style there) and a `securitypolicyviolation` listener installed before any script of the page.
"""

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from assessments.core import services
from assessments.models import Assessment, Period
from tests.factories import UserFactory
from tests.test_url_matrix import MATRIX, PERSONAS

pytestmark = pytest.mark.django_db(transaction=True)

LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " " + (event.blockedURI || "inline") + " at " +
    event.sourceFile + ":" + event.lineNumber);
});
"""

# Built once per test: opening a second ballot of the cell would be refused.
ONCE = {"assessments:ballot_vote"}


def pages_for(persona_name, personas, city):
    """The URLs of the matrix that answer 200 for the persona."""
    urls = []
    for name in sorted(MATRIX):
        build, expected = MATRIX[name]
        if expected[PERSONAS.index(persona_name)] != 200:
            continue
        if name in ONCE:
            if not hasattr(city, "ballot_url"):
                city.ballot_url = build(personas, city)
            urls.append((name, city.ballot_url))
        else:
            urls.append((name, build(personas, city)))
    return urls


def admin_pages(personas, city):
    urls = [("admin:index", reverse("admin:index"))]
    for model in sorted(admin.site._registry, key=lambda m: m._meta.label):
        info = (model._meta.app_label, model._meta.model_name)
        urls.append((f"admin:{info[0]}_{info[1]}_changelist", reverse("admin:{}_{}_changelist".format(*info))))
        urls.append((f"admin:{info[0]}_{info[1]}_add", reverse("admin:{}_{}_add".format(*info))))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            urls.append(
                (f"admin:{info[0]}_{info[1]}_change", reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
            )
    return urls


def signed_in_context(browser, browser_context_args, live_server, user):
    context = browser.new_context(**browser_context_args)
    if user is not None and user.is_authenticated:
        client = Client()
        client.force_login(user)
        cookie = client.cookies["sessionid"]
        context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])
    context.add_init_script(LISTEN)
    return context


def visit_all(context, live_server, urls):
    """Opens each HTML page (downloads and refusals are left out) and returns what went wrong on each."""
    page = context.new_page()
    messages = []
    page.on(
        "console",
        lambda msg: messages.append(f"console {msg.type}: {msg.text}") if msg.type in ("error", "warning") else None,
    )
    page.on("pageerror", lambda error: messages.append(f"script error: {error}"))
    problems, visited = {}, []
    for name, url in urls:
        head = context.request.get(live_server.url + url, max_redirects=0)
        if head.status != 200 or not head.headers.get("content-type", "").startswith("text/html"):
            continue
        assert "script-src 'self'" in head.headers["content-security-policy"], name
        messages.clear()
        page.goto(live_server.url + url, wait_until="load")
        page.wait_for_timeout(50)  # a script run from the load event has had its turn
        found = messages + page.evaluate("window.__violations || []")
        visited.append(name)
        if found:
            problems[name] = found
    page.close()
    return problems, visited


def report(problems):
    return "\n".join(f"{name}: {message}" for name, messages in problems.items() for message in messages)


@pytest.fixture
def year(personas, city):
    city.period = Period.objects.create(organization=city.city, year=2026, regime="2018")
    services.period_open(period=city.period, user=personas.board)
    city.form = Assessment.objects.get(period=city.period, member=personas.member_record)
    return city


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_page_of_each_persona_loads_with_no_policy_violation(
    persona, live_server, browser, browser_context_args, personas, year
):
    urls = pages_for(persona, personas, year)
    context = signed_in_context(browser, browser_context_args, live_server, getattr(personas, persona))
    problems, visited = visit_all(context, live_server, urls)
    context.close()
    # The check saw pages: the sign-in page for the anonymous, the home page and more for the others.
    assert visited, f"no page opened for {persona}"
    assert problems == {}, report(problems)


def test_the_admin_loads_with_no_policy_violation(live_server, browser, browser_context_args, personas, year):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    context = signed_in_context(browser, browser_context_args, live_server, root)
    urls = admin_pages(personas, year)
    problems, visited = visit_all(context, live_server, urls)
    context.close()
    assert "admin:index" in visited and len(visited) > 20, visited
    assert problems == {}, report(problems)


def test_an_inline_script_would_be_reported(live_server, browser, browser_context_args, personas, year):
    """The check can fail: a page that runs an inline script and an inline style is caught by both witnesses."""
    context = signed_in_context(browser, browser_context_args, live_server, personas.board)
    page = context.new_page()
    messages = []
    page.on("console", lambda msg: messages.append(msg.text) if msg.type == "error" else None)
    page.goto(live_server.url + reverse("home"))
    page.evaluate(
        """() => {
        const script = document.createElement("script");
        script.textContent = "window.__ran = true";
        document.body.appendChild(script);
        const style = document.createElement("style");
        style.textContent = "body { color: red }";
        document.head.appendChild(style);
    }"""
    )
    page.wait_for_timeout(100)
    assert page.evaluate("window.__ran === undefined")
    violations = page.evaluate("window.__violations")
    assert any(v.startswith("script-src") for v in violations), violations
    assert any(v.startswith("style-src") for v in violations), violations
    assert any("Content Security Policy" in text for text in messages), messages
    context.close()
