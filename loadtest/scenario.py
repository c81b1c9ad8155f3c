"""What each virtual user does: sign in, open the village list, fill in, save, sign and submit.

A user acts like a person looking at the page: each step reads the survey page and does
the next thing still to do (save, name the investigators, sign, have the partner sign on
this device, submit). After a failed request (5xx, or no answer) the user waits and starts
the step again from a fresh page, as a person reloads; a save refused as stale (409) is
redone on the latest content. Only a save answered with a redirect counts as confirmed.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from cases.demo import DEMO_PASSWORD as PASSWORD  # the extra accounts share its hash

from .browser import Browser, Recorder, ServerError, find_form, messages

# What a cadre fills in when the page has it empty: enough for the survey to be submittable.
COMPLETE = {
    "h-visit_date": "2019-10-25",
    "h-main_cause": "illness",
    "h-dibao_reason": "家庭成员患病，劳动能力弱，收入低于当地低保标准。",
    "h-recommendation": "keep",
    "h-recommendation_reason": "经入户核实，家庭情况属实，维持原保障。",
    "h-head_confirmation": "signed",
}
# LOAD_DROP_FIELDS=edit_version posts the survey form without its optimistic-lock field, as a
# page from before that field existed would: the server now refuses such a save as stale (409).
DROPPED = set(filter(None, os.environ.get("LOAD_DROP_FIELDS", "").split(",")))
SURVEY_ID = re.compile(r"/surveys/([0-9a-f-]{36})/")


@dataclass(frozen=True)
class Account:
    username: str
    pk: int
    village_code: str
    client_ip: str


@dataclass
class Pair:
    """A draft that a cadre and a work-group member edit at the same time, each their own field."""

    partner_done: threading.Event = field(default_factory=threading.Event)
    both_ready: threading.Barrier = field(default_factory=lambda: threading.Barrier(2))


@dataclass
class Task:
    household: str  # public id
    survey: str | None  # an open draft's public id, or None: the user starts the survey
    partner: Account  # signs on the user's device with their password
    field: str = "h-findings"  # the field this user changes on each save
    saves: int = 2
    pair: Pair | None = None


@dataclass
class Ledger:
    """Every confirmed save: (survey, field) -> the value the site confirmed last.

    Each (survey, field) has one writer, who saves in sequence, so "last" is well defined.
    """

    confirmed: dict[tuple[str, str], str] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)
    counts: Counter = field(default_factory=Counter)
    notes: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def confirm(self, survey: str, name: str, value: str) -> None:
        with self.lock:
            self.confirmed[(survey, name)] = value
            self.counts["saves confirmed"] += 1

    def count(self, what: str, note: str = "") -> None:
        with self.lock:
            self.counts[what] += 1
            if note:
                self.notes[note[:160]] += 1


class Stop(Exception):
    """The run's time or request budget is spent."""


class User:
    def __init__(self, base: str, account: Account, *, recorder: Recorder, ledger: Ledger, hard_deadline: float):
        self.account, self.ledger, self.hard_deadline = account, ledger, hard_deadline
        self.browser = Browser(base, user=account.username, client_ip=account.client_ip, recorder=recorder)
        self.recorder = recorder

    # -- plumbing ------------------------------------------------------------------------

    def check_budget(self) -> None:
        if time.monotonic() > self.hard_deadline or self.recorder.exhausted:
            raise Stop

    def think(self) -> None:
        time.sleep(random.uniform(0.1, 0.4))
        self.check_budget()

    def retrying(self, step, *args, **kwargs):
        """Run a step; after a server failure wait and run it again, as a person reloads the page."""
        for attempt in range(6):
            self.check_budget()
            try:
                return step(*args, **kwargs)
            except ServerError:
                self.ledger.count("steps retried after a server failure")
                time.sleep(1 + attempt)
        self.ledger.count("steps abandoned after 6 server failures")
        return None

    # -- steps ---------------------------------------------------------------------------

    def sign_in(self) -> bool:
        b = self.browser
        page = b.get("/accounts/login/", "GET login page")
        form = find_form(page.body, where=lambda f: f.value("username") is not None)
        form.set("username", self.account.username)
        form.set("password", PASSWORD)
        answer = b.post(form.action or "/accounts/login/", form.fields, "POST login")
        if answer.status != 302:
            self.ledger.count("logins refused", f"{self.account.username}: HTTP {answer.status}")
            return False
        b.follow(answer, "GET home")
        return True

    def village_list(self) -> None:
        self.browser.get(f"/surveys/villages/{self.account.village_code}/", "GET village list")

    def start(self, task: Task) -> str | None:
        b = self.browser
        page = b.get(f"/surveys/villages/{self.account.village_code}/?status=not_visited", "GET village list")
        token = next((f.value("csrfmiddlewaretoken") for f in _forms_with_token(page.body)), None)
        answer = b.post(f"/surveys/start/{task.household}/", [("csrfmiddlewaretoken", token or "")], "POST start")
        found = SURVEY_ID.search(answer.location or "")
        if answer.status != 302 or not found or not answer.location.endswith("/edit/"):
            self.ledger.count("surveys not started", " ".join(t for _, t in messages(b.follow(answer).body)))
            return None
        b.follow(answer, "GET survey form")
        return found.group(1)

    def survey(self, task: Task, survey: str, *, partner_role: bool = False) -> bool:
        """Work on one survey until it is submitted (or, for a pair's partner, until its saves are done)."""
        b = self.browser
        edit_url = f"/surveys/{survey}/edit/"
        page = None
        saved = 0
        waited = False
        for _ in range(25):
            self.think()
            if page is None:
                page = b.get(edit_url, "GET survey form")
            form = find_form(page.body, form_id="survey-form")
            if form is None:  # redirected to the read-only page: submitted
                return True
            if saved < task.saves:
                value = self.fill(form, task, survey, saved)
                fields = [(k, v) for k, v in form.fields if k not in DROPPED]
                answer = b.post(edit_url, [*fields, ("action", "save")], "POST save draft")
                if answer.status == 302:
                    self.ledger.confirm(survey, task.field, value)
                    saved += 1
                    page = b.follow(answer, "GET survey form")
                elif answer.status == 409:
                    self.ledger.count("stale saves refused (409)")
                    page = None
                else:
                    self.ledger.count("saves refused", _first_error(answer.body) or f"HTTP {answer.status}")
                    page = None
                continue
            if partner_role:
                return True
            if task.pair is not None and not waited:
                # Sign only once the partner's changes are in, on a page that shows them.
                waited = True
                if not task.pair.partner_done.wait(timeout=60):
                    self.ledger.count("pairs whose partner did not finish")
                page = None
                continue
            page = self.finish(page.body, task, survey)
            if page is None:
                return False
            if page.status == 200 and find_form(page.body, form_id="survey-form") is None:
                return True
        self.ledger.count("surveys left unfinished after 25 steps")
        return False

    def fill(self, form, task: Task, survey: str, n: int) -> str:
        if task.field == "h-findings":
            for name, value in COMPLETE.items():
                if form.value(name) == "":
                    form.set(name, value)
            value = f"负载测试：{self.account.username}第{n + 1}次保存，{survey[:8]}"
        else:
            value = str(100 + 10 * n + int(self.account.pk) % 10)
        form.set(task.field, value)
        return value

    def finish(self, html: str, task: Task, survey: str):
        """The next of: name the investigators, sign, have the partner sign, submit. Returns the page after."""
        b, me, partner = self.browser, self.account, task.partner
        investigators = find_form(html, action_ends="/investigators/")
        if investigators is not None:
            named = {v for k, v in investigators.fields if k == "investigators"}
            if named != {str(me.pk), str(partner.pk)}:
                investigators.set_all("investigators", [str(me.pk), str(partner.pk)])
                answer = b.post(investigators.action, investigators.fields, "POST investigators")
                return b.follow(answer, "GET survey form")
        for who, label in ((me, "POST sign (own login)"), (partner, "POST sign (password on this device)")):
            sign = find_form(html, action_ends="/sign/", where=lambda f, pk=who.pk: f.value("investigator") == str(pk))
            if sign is not None:
                if who is partner:
                    sign.set("password", PASSWORD)
                answer = b.post(sign.action, sign.fields, label)
                page = b.follow(answer, "GET survey form")
                if not any(level == "success" for level, _ in messages(page.body)):
                    self.ledger.count("signatures refused (content changed since shown)", _first_error(page.body))
                return page
        submit = find_form(html, action_ends="/submit/")
        problems = re.search(r'data-testid="problems">(.*?)</ul>', html, re.S)
        if submit is None or problems:
            self.ledger.count("surveys not submittable", re.sub(r"<[^>]+>", " ", problems.group(1)) if problems else "")
            return None
        answer = b.post(submit.action, submit.fields, "POST submit")
        if answer.status == 302 and answer.location.rstrip("/").endswith(survey):
            self.ledger.count("surveys submitted")
        else:
            self.ledger.count("submissions refused", _first_error(b.follow(answer).body))
        return b.follow(answer, "GET after submit")


def _forms_with_token(html: str):
    from .browser import forms

    return [f for f in forms(html) if f.value("csrfmiddlewaretoken")]


def _first_error(html: str) -> str:
    return next((text for level, text in messages(html) if level in {"danger", "error", "warning"}), "")


def _meet(pair: Pair) -> None:
    """Both members of a pair open the shared draft together (or go on alone after 30 s)."""
    with contextlib.suppress(threading.BrokenBarrierError):
        pair.both_ready.wait(timeout=30)


def run_cadre(user: User, tasks: list[Task], soft_deadline: float) -> None:
    try:
        if not user.retrying(user.sign_in):
            return
        user.retrying(user.village_list)
        for task in tasks:
            if time.monotonic() > soft_deadline and task.pair is None:
                break
            if task.pair is not None:
                _meet(task.pair)
            survey = task.survey or user.retrying(user.start, task)
            if survey is None:
                continue
            user.ledger.touched.add(survey)
            if user.retrying(user.survey, task, survey):
                user.ledger.count("surveys finished")
            user.retrying(user.village_list)
    except Stop:
        user.ledger.count("users stopped by the run's time or request budget")


def run_partner(user: User, task: Task) -> None:
    """The work-group member of a pair: sign in, change their own field of the shared draft, done."""
    try:
        if user.retrying(user.sign_in):
            user.retrying(user.village_list)
            _meet(task.pair)
            user.retrying(user.survey, task, task.survey, partner_role=True)
    except Stop:
        user.ledger.count("users stopped by the run's time or request budget")
    finally:
        task.pair.partner_done.set()
