"""A minimal browser for the load test: cookies, redirects, and forms posted as a browser posts them.

Standard library only. It talks to the site as the HTTPS proxy would: plain HTTP on the
loopback address with X-Forwarded-Proto: https and the client's own X-Forwarded-For, so
the production settings (secure cookies, HTTPS redirect, CSRF origin checks) apply unchanged.
Cookies are kept by hand because they are marked Secure and the wire is plain HTTP.
"""

from __future__ import annotations

import http.client
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Sample:
    """One request as the user lived it."""

    run: str
    user: str
    label: str
    status: int  # 0: no answer (connection refused, reset or closed)
    ms: float
    at: float  # seconds since the run started
    error: str = ""  # why this counts as an error, "" when it does not
    error_page: str = ""  # for a 5xx: "clear" (the site's error page) or "traceback"/"other"


@dataclass
class Recorder:
    run: str
    started: float = field(default_factory=time.monotonic)
    samples: list[Sample] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    max_requests: int = 10_000

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)

    @property
    def exhausted(self) -> bool:
        return len(self.samples) >= self.max_requests


class ServerError(Exception):
    """The site answered 5xx or not at all; the user waits and tries again."""


@dataclass
class Response:
    status: int
    body: str
    location: str = ""


class Browser:
    def __init__(self, base: str, *, user: str, client_ip: str, recorder: Recorder, timeout: float = 30):
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.origin = f"https://{parts.netloc}"  # as the user's browser sees the site, behind the proxy
        self.user, self.client_ip, self.recorder, self.timeout = user, client_ip, recorder, timeout
        self.cookies: dict[str, str] = {}
        self.last_url = "/"

    def get(self, path: str, label: str) -> Response:
        return self._follow(self._send("GET", path, label))

    def post(self, path: str, data: list[tuple[str, str]], label: str) -> Response:
        """POST the fields; the answer before any redirect is returned (a 302 says the change held)."""
        return self._send("POST", path, label, data=data, expect=(302,))

    def follow(self, response: Response, label: str = "GET (redirected)") -> Response:
        return self._follow(response, label)

    def _follow(self, response: Response, label: str = "GET (redirected)") -> Response:
        hops = 0
        while response.status in (301, 302, 303) and response.location and hops < 3:
            response = self._send("GET", response.location, label)
            hops += 1
        return response

    def _send(self, method: str, path: str, label: str, *, data=None, expect=(200, 302)) -> Response:
        path = urllib.parse.urljoin(self.last_url, path)
        headers = {
            "Host": f"{self.host}:{self.port}",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.client_ip,
            "User-Agent": "dibao-loadtest",
            "Accept-Language": "zh-CN",
            "Connection": "close",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if method == "POST":
            body = urllib.parse.urlencode(data or []).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin
            headers["Referer"] = self.origin + self.last_url
        started = time.monotonic()
        at = started - self.recorder.started
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            raw = connection.getresponse()
            text = raw.read().decode("utf-8", "replace")
            status, location = raw.status, raw.getheader("Location", "")
            cookies = raw.headers.get_all("Set-Cookie") or []
        except (OSError, http.client.HTTPException) as exc:
            ms = (time.monotonic() - started) * 1000
            self.recorder.add(
                Sample(self.recorder.run, self.user, label, 0, ms, at, f"no answer: {type(exc).__name__}")
            )
            raise ServerError(f"{label}: {type(exc).__name__}") from exc
        finally:
            connection.close()
        ms = (time.monotonic() - started) * 1000
        self._keep_cookies(cookies)
        error, page = "", ""
        if status >= 500:
            # What the user read: the site's own error page, never a traceback.
            page = "clear" if "系统出现错误" in text and "Traceback" not in text else "traceback/other"
            error = f"HTTP {status}"
        elif status not in expect and status != 409:
            error = f"HTTP {status}"
        self.recorder.add(Sample(self.recorder.run, self.user, label, status, ms, at, error, page))
        if status >= 500:
            raise ServerError(f"{label}: HTTP {status}")
        if method == "GET" and status == 200:
            self.last_url = path
        return Response(status, text, location)

    def _keep_cookies(self, headers: list[str]) -> None:
        for header in headers:
            pair, _, attributes = header.partition(";")
            name, _, value = pair.strip().partition("=")
            expired = "max-age=0" in attributes.lower().replace(" ", "") or "1970" in attributes
            if expired or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value


# --- forms ------------------------------------------------------------------------------


class Form:
    """The fields a browser would send for one <form>, in order (checked boxes, selected options)."""

    def __init__(self, attrs: dict[str, str]):
        self.action = attrs.get("action") or ""
        self.id = attrs.get("id") or ""
        self.fields: list[tuple[str, str]] = []

    def value(self, name: str) -> str | None:
        return next((v for k, v in self.fields if k == name), None)

    def set(self, name: str, value: str) -> None:
        """Replace the field's value (or add the field): one value per name."""
        self.fields = [(k, v) for k, v in self.fields if k != name] + [(name, value)]

    def set_all(self, name: str, values: list[str]) -> None:
        self.fields = [(k, v) for k, v in self.fields if k != name] + [(name, v) for v in values]


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: dict | None = None
        self._option: dict | None = None
        self._textarea: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = Form(a)
            self.forms.append(self._form)
        if self._form is None or "disabled" in a:
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"} or "name" not in a:
                return
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            self._form.fields.append((a["name"], a.get("value", "on" if kind in {"checkbox", "radio"} else "")))
        elif tag == "select" and "name" in a:
            self._select = {"name": a["name"], "multiple": "multiple" in a, "chosen": [], "first": None}
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "text": "", "selected": "selected" in a}
        elif tag == "textarea" and "name" in a:
            self._textarea = {"name": a["name"], "text": ""}

    def handle_data(self, data):
        if self._option is not None:
            self._option["text"] += data
        if self._textarea is not None:
            self._textarea["text"] += data

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None and self._select is not None:
            value = self._option["value"] if self._option["value"] is not None else self._option["text"].strip()
            if self._select["first"] is None:
                self._select["first"] = value
            if self._option["selected"]:
                self._select["chosen"].append(value)
            self._option = None
        elif tag == "select" and self._select is not None and self._form is not None:
            chosen = self._select["chosen"] or ([] if self._select["multiple"] else [self._select["first"]])
            self._form.fields += [(self._select["name"], v) for v in chosen if v is not None]
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            # The HTML parser drops the newline right after <textarea>; Python's does not.
            text = self._textarea["text"]
            self._form.fields.append((self._textarea["name"], text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "form":
            self._form = None


def forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def find_form(html: str, *, action_ends: str = "", form_id: str = "", where=None) -> Form | None:
    for form in forms(html):
        if form_id and form.id != form_id:
            continue
        if action_ends and not form.action.endswith(action_ends):
            continue
        if where is not None and not where(form):
            continue
        return form
    return None


_ALERT = re.compile(r'<div class="alert alert-(\w+)" role="alert">(.*?)</div>', re.S)


def messages(html: str) -> list[tuple[str, str]]:
    """The page's flash messages as (level, text)."""
    return [(level, re.sub(r"<[^>]+>", "", text).strip()) for level, text in _ALERT.findall(html)]
