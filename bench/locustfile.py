"""Load of the busiest pages as the demo city's people use them (bench/load.sh starts the server and runs
this headless): members opening their form, secretaries their cell's dashboard, the officer of the biggest
committee (Tích Sơn, 564 members) its decision and ranking screens, the board the city's ranking,
statistics and roster. Everyone signs in first, and the sign-ins count.

A person reads a page before opening the next: 5 to 15 seconds between pages. People arrive two a second,
so 200 are signed in after 100 seconds, the way a morning's work starts, not all in one instant."""

import re

from locust import HttpUser, between, task

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
LINK = re.compile(r'href="(/reviews/[0-9a-f-]{36}/)"')
DASHBOARD = re.compile(r'href="(/reviews/period/[0-9a-f-]{36}/org/[^"/]+/)"')
RANKING = re.compile(r'href="(/reviews/period/[0-9a-f-]{36}/rank/[^"/]+/)"')
DECIDE = re.compile(r'href="(/reviews/period/[0-9a-f-]{36}/decide/[^"/]+/)"')
STATISTICS = re.compile(r'href="(/reviews/period/[0-9a-f-]{36}/org/[^"/]+/stats/)"')


class SignedIn(HttpUser):
    abstract = True
    username = ""
    wait_time = between(5, 15)

    def on_start(self):
        page = self.client.get("/accounts/login/", name="login page")
        token = CSRF.search(page.text).group(1)
        home = self.client.post(
            "/accounts/login/",
            {"username": self.username, "password": "demo12345", "csrfmiddlewaretoken": token},
            headers={"Referer": self.host + "/accounts/login/"},
            name="sign in",
        )
        self.home = home.text

    def first(self, pattern, text=None):
        found = pattern.search(text if text is not None else self.home)
        return found.group(1) if found else None

    def open(self, pattern, name, text=None):
        url = self.first(pattern, text)
        if url:
            return self.client.get(url, name=name)
        return None


class Member(SignedIn):
    weight = 10
    username = "dangvien"

    @task
    def form(self):
        self.open(LINK, "member form")


class Secretary(SignedIn):
    weight = 5
    username = "bithu"

    @task
    def dashboard(self):
        self.open(DASHBOARD, "cell dashboard")


class Officer(SignedIn):
    """The officer of Tích Sơn, the biggest committee."""

    weight = 3
    username = "canbo"

    def on_start(self):
        super().on_start()
        # The officer's home leads to the committee's page; its decision and ranking screens are there.
        page = self.open(DASHBOARD, "committee page")
        if page is not None:
            self.home = page.text

    @task(2)
    def decisions(self):
        self.open(DECIDE, "decision screen")

    @task
    def ranking(self):
        self.open(RANKING, "committee ranking")


class Board(SignedIn):
    weight = 2
    username = "bantochuc"

    @task(2)
    def ranking(self):
        self.open(RANKING, "city ranking")

    @task
    def statistics(self):
        self.open(STATISTICS, "city statistics")

    @task
    def roster(self):
        self.client.get("/members/", name="roster")
