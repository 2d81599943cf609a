"""Load on the three busiest pages: 50 users mixing the member's form, the cell dashboard and the city
ranking screen, as the demo accounts (bench/load.sh starts the server and runs this headless)."""

import re

from locust import HttpUser, between, task

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
LINK = re.compile(r'href="(/reviews/[0-9a-f-]{36}/)"')
DASHBOARD = re.compile(r'href="(/reviews/period/[0-9a-f-]{36}/org/[^"]+/)"')
RANKING = re.compile(r'href="(/reviews/period/[0-9a-f-]{36}/rank/[^"]+/)"')


class SignedIn(HttpUser):
    abstract = True
    username = ""
    wait_time = between(0.5, 2)

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


class Member(SignedIn):
    weight = 6
    username = "dangvien"

    @task
    def form(self):
        url = self.first(LINK)
        if url:
            self.client.get(url, name="member form")


class Secretary(SignedIn):
    weight = 3
    username = "bithu"

    @task
    def dashboard(self):
        url = self.first(DASHBOARD)
        if url:
            self.client.get(url, name="cell dashboard")


class Board(SignedIn):
    weight = 1
    username = "bantochuc"

    @task
    def ranking(self):
        url = self.first(RANKING)
        if url:
            self.client.get(url, name="ranking screen")
