"""Sixteen users at work: the mix of the people who use Uchet during a day.

    make load                      # gunicorn + PostgreSQL + Redis, 16 users, p50/p95/errors
    .venv/bin/locust -f bench/load/locustfile.py --host http://127.0.0.1:8097

Each simulated user logs in as a demo user of his kind (password «demo», the login
form's CSRF token included) and repeats what that person does, with a think time:

* registrar (weight 6): the voucher list, the last 30 days, a voucher's card, patients;
* accountant (2): contracts, the voucher list of his region;
* client_head (4): the cabinet's yearly statistics (page and JSON), by month — the last
  365 days (read over the day rollups) and this calendar year (its counters);
* manager (2): his clients' overview (this month's figures), his profile;
* admin (1): users, the rights matrix, the journal.

A response other than 200 counts as an error (a redirect to the login page is one).
"""

from __future__ import annotations

import datetime as dt
import random
import re

from locust import HttpUser, between, task

PASSWORD = "demo"
TODAY = dt.date.today()
YEAR = f"start={TODAY - dt.timedelta(days=364)}&end={TODAY}"
#: «Этот год по месяцам»: read from the calendar periods' counters (flat in the data).
CALENDAR_YEAR = f"start={TODAY.replace(month=1, day=1)}&end={TODAY}"
SINCE = (TODAY - dt.timedelta(days=30)).isoformat()
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CARD = re.compile(r"/voucherview/show/(\d+)")


class Person(HttpUser):
    """A demo user who logs in once and then works."""

    abstract = True
    username = ""
    wait_time = between(1, 3)

    def on_start(self) -> None:
        page = self.client.get("/login/", name="login form")
        token = CSRF.search(page.text)
        data = {"username": self.username, "password": PASSWORD}
        if token:
            data["csrf_token"] = token.group(1)
        with self.client.post("/login/", data=data, name="login", allow_redirects=False,
                              catch_response=True) as response:
            if response.status_code != 302:
                response.failure(f"login as {self.username}: {response.status_code}")

    def page(self, url: str, name: str):
        """GET a page; anything but 200 (a login redirect included) is a failure."""
        with self.client.get(url, name=name, allow_redirects=False,
                             catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
            return response


class Registrar(Person):
    weight = 6
    username = "registrar"
    cards: list[str] = []

    @task(4)
    def vouchers(self) -> None:
        response = self.page("/voucherview/list/", "vouchers: list")
        self.cards = CARD.findall(response.text or "") or self.cards

    @task(2)
    def recent(self) -> None:
        self.page(f"/voucherview/list/?_flt_1_service_date={SINCE}", "vouchers: 30 days")

    @task(3)
    def card(self) -> None:
        if self.cards:
            self.page(f"/voucherview/show/{random.choice(self.cards)}", "vouchers: card")

    @task(1)
    def patients(self) -> None:
        self.page("/patientview/list/", "patients: list")


class Accountant(Person):
    weight = 2
    username = "accountant"

    @task(2)
    def contracts(self) -> None:
        self.page("/contractview/list/", "contracts: list")

    @task(3)
    def vouchers(self) -> None:
        self.page("/voucherview/list/", "vouchers: list")


class ClientHead(Person):
    weight = 4
    username = "client_head"

    @task(2)
    def statistics(self) -> None:
        self.page(f"/cabinet/statistics/?{YEAR}&grouping=month", "cabinet: year page")

    @task(1)
    def statistics_json(self) -> None:
        self.page(f"/cabinet/statistics/data?{YEAR}&grouping=month", "cabinet: year JSON")

    @task(1)
    def calendar_year(self) -> None:
        self.page(f"/cabinet/statistics/?{CALENDAR_YEAR}&grouping=month",
                  "cabinet: calendar year page")

    @task(1)
    def by_day(self) -> None:
        start = TODAY - dt.timedelta(days=30)
        self.page(f"/cabinet/statistics/data?start={start}&end={TODAY}&grouping=day",
                  "cabinet: month by day")


class Manager(Person):
    weight = 2
    username = "manager"

    @task(3)
    def clients(self) -> None:
        # Every served client's offices, users and this month's figures.
        self.page("/cabinet/clients/", "manager: clients")

    @task(1)
    def profile(self) -> None:
        self.page("/cabinet/manager/", "manager: profile")


class Admin(Person):
    weight = 1
    username = "admin"

    @task(2)
    def users(self) -> None:
        self.page("/users/list/", "admin: users")

    @task(1)
    def matrix(self) -> None:
        self.page("/rights/matrix?section=vouchers", "admin: rights matrix")

    @task(1)
    def journal(self) -> None:
        self.page("/journalview/list/", "admin: journal")
