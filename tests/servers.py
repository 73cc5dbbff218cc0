"""A small real HTTP server on 127.0.0.1 for tests that talk to outside services.

`LocalHTTPServer(responder)` listens on a random free port in a background thread; every
request is recorded (`server.requests`) and answered by `responder(request) -> Reply`,
unless replies were scripted first (`fail_next`, `delay_next`, `garbage_next`, `script`).

`BanResponder(fixtures_dir)` replays recorded BAN/addok GeocodeJSON answers: each fixture is
a true answer, and it is served to the request whose `q` equals the answer's `query` and whose
parameters carry every filter listed in the answer's `filters`. Unmatched requests get an empty
FeatureCollection, as the BAN answers an address it does not know.

    with LocalHTTPServer(BanResponder(FIXTURES / "ban")) as server:
        settings.GEOCODER_URL = server.url
        server.fail_next(2, status=500)
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    params: dict[str, str]  # last value of each query parameter
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes | str | dict | list = b""
    content_type: str = "application/json; charset=utf-8"
    delay: float = 0.0  # seconds to wait before answering (to trigger client timeouts)
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if isinstance(self.body, dict | list):
            return json.dumps(self.body, ensure_ascii=False).encode()
        if isinstance(self.body, str):
            return self.body.encode()
        return self.body


Responder = Callable[[RecordedRequest], Reply]


class LocalHTTPServer:
    def __init__(self, responder: Responder | None = None):
        self.responder: Responder = responder or (lambda request: Reply(404, b"not found"))
        self.requests: list[RecordedRequest] = []
        self._scripted: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread: threading.Thread | None = None

    # --- life cycle -------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalHTTPServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers that sleep in a delayed reply
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> LocalHTTPServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- scripting ----------------------------------------------------------------------
    def script(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order, then use the responder."""
        with self._lock:
            self._scripted.extend(replies)

    def fail_next(self, count: int, *, status: int = 500) -> None:
        self.script(*[Reply(status, b'{"code": %d, "message": "erreur"}' % status)] * count)

    def delay_next(self, count: int, *, seconds: float) -> None:
        """Make the next requests hang (the reply is an empty 200 that arrives too late)."""
        self.script(*[Reply(200, b"{}", delay=seconds)] * count)

    def garbage_next(self, count: int, *, body: bytes = b"<html>Bad Gateway</html>") -> None:
        self.script(*[Reply(200, body)] * count)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path == path]

    # --- internals ----------------------------------------------------------------------
    def _reply_for(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._scripted:
                return self._scripted.popleft()
        return self.responder(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = RecordedRequest(
                    method=self.command,
                    path=split.path,
                    params={k: v[-1] for k, v in parse_qs(split.query).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                reply = server._reply_for(request)
                if reply.delay and server._stopping.wait(reply.delay):
                    return
                body = reply.encoded()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): nothing to answer

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, format, *args) -> None:  # noqa: A002
                pass  # keep test output clean

        return Handler


class BanResponder:
    """Serve recorded GeocodeJSON answers (tests/fixtures/ban/*.json) on /search/."""

    FILTER_NAMES = ("citycode", "postcode", "type")

    def __init__(self, fixtures_dir: Path = FIXTURES / "ban"):
        self.answers = [
            json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(fixtures_dir.glob("*.json"))
        ]

    def __call__(self, request: RecordedRequest) -> Reply:
        if request.path.rstrip("/") != "/search":
            return Reply(404, {"code": 404, "message": "Not Found"})
        query = request.params.get("q", "")
        if not 3 <= len(query) <= 200:
            return Reply(400, {"code": 400, "message": "q must contain between 3 and 200 chars"})
        answer = self.match(request.params)
        if answer is None:
            filters = {k: request.params[k] for k in self.FILTER_NAMES if k in request.params}
            answer = {
                "type": "FeatureCollection",
                "version": "draft",
                "features": [],
                "attribution": "BAN",
                "licence": "ETALAB-2.0",
                "query": query,
                "filters": filters,
                "limit": int(request.params.get("limit", 5)),
            }
        return Reply(200, answer)

    def match(self, params: dict[str, str]) -> dict | None:
        """The answer recorded for this query whose filters were all sent (most specific wins)."""
        candidates = [
            answer
            for answer in self.answers
            if answer.get("query") == params.get("q")
            and all(params.get(k) == str(v) for k, v in answer.get("filters", {}).items())
        ]
        candidates.sort(key=lambda answer: len(answer.get("filters", {})), reverse=True)
        return candidates[0] if candidates else None
