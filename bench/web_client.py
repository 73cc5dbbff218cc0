"""A browser made of httpx for tests and checks against a production stack (bench/stack.py):
cookies, forms read from the page's HTML, redirects followed, e-mails read from the SMTP sink.

The production cookies are `__Host-` and Secure, which a cookie jar would not send over plain
http to 127.0.0.1: the browser keeps them itself. It speaks to one or several web processes
(`base_urls`) as a load balancer would: the same `Host` and https (X-Forwarded-Proto) for all, so
that a session or a form begun on one process can go on on another (`at=` picks the process).

    browser = Browser(["http://127.0.0.1:8001", "http://127.0.0.1:8002"], ip="10.0.0.1")
    page = browser.get("/compte/connexion/")
    page = browser.submit(page, "Se connecter", {"username": …, "password": …}, at=1)
"""

from __future__ import annotations

import hashlib
import hmac
import html
import re
import struct
import time
from dataclasses import dataclass, field
from email import message_from_binary_file, policy
from email.utils import getaddresses
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

HOST = "localhost"  # the one name every web process answers to (ALLOWED_HOSTS of the stack)
LINK = re.compile(r"https?://[^\s<>\"']+")


def totp(key_hex: str, at: float | None = None) -> str:
    """The 6-digit TOTP code (RFC 6238: SHA-1, 30 s steps) of a django-otp TOTPDevice key."""
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(bytes.fromhex(key_hex), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # (name, value, text)
    options: dict[str, list[str]] = field(default_factory=dict)  # radio and select values

    def button(self, text: str) -> tuple[str, str, str] | None:
        return next((b for b in self.buttons if text in b[2]), None)


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._button: list | None = None
        self._select: str | None = None
        self._selected = False
        self._textarea: list | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v if v is not None else "" for k, v in attrs}
        if tag == "form":
            self._form = Form(action=a.get("action", ""), method=a.get("method", "get").lower())
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        name = a.get("name", "")
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "image"):
                form.buttons.append((name, a.get("value", ""), a.get("value", "")))
            elif kind in ("checkbox", "radio"):
                form.options.setdefault(name, []).append(a.get("value", "on"))
                if "checked" in a and name:
                    form.fields.append((name, a.get("value", "on")))
            elif name and kind not in ("button", "reset", "file"):
                form.fields.append((name, a.get("value", "")))
        elif tag == "button" and a.get("type", "submit").lower() == "submit":
            self._button = [name, a.get("value", ""), ""]
        elif tag == "select":
            self._select, self._selected = name, False
        elif tag == "option" and self._select is not None:
            form.options.setdefault(self._select, []).append(a.get("value", ""))
            if "selected" in a:
                form.fields.append((self._select, a.get("value", "")))
                self._selected = True
        elif tag == "textarea" and name:
            self._textarea = [name, ""]

    def handle_data(self, data):
        if self._button is not None:
            self._button[2] += data
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        form = self._form
        if tag == "form":
            self._form = None
        elif form is None:
            return
        elif tag == "button" and self._button is not None:
            name, value, text = self._button
            form.buttons.append((name, value, " ".join(text.split())))
            self._button = None
        elif tag == "select" and self._select is not None:
            if not self._selected and form.options.get(self._select):
                form.fields.append((self._select, form.options[self._select][0]))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            form.fields.append(tuple(self._textarea))
            self._textarea = None


@dataclass
class Page:
    url: str  # the path (and query) of the last response
    status: int
    text: str
    history: list[int] = field(default_factory=list)  # statuses of the redirects followed

    @property
    def plain(self) -> str:
        """The HTML with its character references decoded (« d'un », not « d&#x27;un »)."""
        return html.unescape(self.text)

    def forms(self) -> list[Form]:
        parser = _FormParser()
        parser.feed(self.text)
        return parser.forms

    def form(self, button: str) -> Form:
        """The form whose submit button's text contains `button`."""
        for form in self.forms():
            if form.button(button) is not None:
                return form
        raise LookupError(f"no form with a « {button} » button on {self.url} ({self.status})")

    def links(self, pattern: str) -> list[str]:
        return [m for m in re.findall(r'href="([^"]+)"', self.text) if re.search(pattern, m)]


class Browser:
    """One person's browser, in front of one or several web processes."""

    def __init__(self, base_urls: list[str] | str, *, ip: str = "10.0.0.1", timeout=60.0):
        urls = [base_urls] if isinstance(base_urls, str) else list(base_urls)
        self.clients = [httpx.Client(base_url=url, timeout=timeout) for url in urls]
        self.ip = ip
        self.cookies: dict[str, str] = {}
        self.last_path = "/"

    def close(self) -> None:
        for client in self.clients:
            client.close()

    def headers(self) -> dict[str, str]:
        return {
            "Host": HOST,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.ip,
            "Origin": f"https://{HOST}",
            "Referer": f"https://{HOST}{self.last_path}",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }

    def _keep_cookies(self, response: httpx.Response) -> None:
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value in ("", '""') or "max-age=0" in header.lower():
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value

    def request(self, method: str, path: str, *, data=None, at: int = 0, follow=True) -> Page:
        path = local_path(path)
        history = []
        client = self.clients[at]
        response = client.request(method, path, data=data, headers=self.headers())
        self._keep_cookies(response)
        while follow and response.status_code in (301, 302, 303) and len(history) < 10:
            history.append(response.status_code)
            path = local_path(urljoin(f"https://{HOST}{path}", response.headers["location"]))
            response = client.get(path, headers=self.headers())
            self._keep_cookies(response)
        self.last_path = path
        return Page(url=path, status=response.status_code, text=response.text, history=history)

    def get(self, path: str, *, at: int = 0) -> Page:
        return self.request("GET", path, at=at)

    def submit(self, page: Page, button: str, values: dict | None = None, *, at: int = 0):
        """Fill the form of `page` whose button says `button` and press that button."""
        form = page.form(button)
        return self.post_form(form, page.url, button, values, at=at)

    def post_form(self, form: Form, page_url: str, button: str, values=None, *, at: int = 0):
        data: dict[str, list[str]] = {}
        for name, value in form.fields:
            data.setdefault(name, []).append(value)
        name, value, _ = form.button(button)
        if name:
            data[name] = [value]
        for key, value in (values or {}).items():
            data[key] = value if isinstance(value, list) else [value]
        action = urljoin(f"https://{HOST}{page_url}", form.action or page_url)
        return self.request(form.method.upper(), action, data=data, at=at)


def local_path(url: str) -> str:
    """The path and query of a URL (the links of the e-mails carry PUBLIC_BASE_URL's host)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Mailbox:
    """The .eml files written by `manage.py smtp_sink` into `directory`."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def messages(self) -> list[tuple[list[str], str, str]]:
        """(recipients, subject, plain text) of every message received so far."""
        found = []
        for path in sorted(self.directory.glob("*.eml")):
            with path.open("rb") as handle:
                message = message_from_binary_file(handle, policy=policy.default)
            body = message.get_body(preferencelist=("plain",))
            text = body.get_content() if body is not None else ""
            recipients = [a.lower() for _, a in getaddresses(message.get_all("To", []))]
            found.append((recipients, str(message["Subject"] or ""), text))
        return found

    def count_to(self, address: str) -> int:
        return sum(address.lower() in to for to, _, _ in self.messages())

    def wait_for_count(self, address: str, count: int, *, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.count_to(address) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"fewer than {count} e-mails to {address}")
            time.sleep(0.3)

    def wait_for_link(self, address: str, pattern: str, *, timeout: float = 60.0, skip=()):
        """The first link matching `pattern` in a message to `address` (not one of `skip`),
        waiting for the outbox worker to send it."""
        deadline = time.monotonic() + timeout
        while True:
            for to, _, text in self.messages():
                if address.lower() in to:
                    for link in LINK.findall(text):
                        if re.search(pattern, link) and link not in skip:
                            return link
            if time.monotonic() > deadline:
                raise TimeoutError(f"no e-mail to {address} with a link {pattern!r}")
            time.sleep(0.3)
