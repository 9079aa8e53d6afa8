"""A webhook receiver on loopback for the tests: answers with the statuses it is given and records every request."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered


class WebhookReceiver:
    """Answers the n-th POST with `statuses[n]` (the last one repeats), with a `Location` header when given."""

    def __init__(self, statuses: tuple[int, ...] = (204,), location: str = "") -> None:
        self.requests: list[ReceivedRequest] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = statuses[min(len(receiver.requests), len(statuses) - 1)]
                receiver.requests.append(ReceivedRequest(self.path, dict(self.headers), body, status))
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = f"{self.base_url}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivered(self) -> list[ReceivedRequest]:
        """The requests it accepted (2xx)."""
        return [request for request in self.requests if 200 <= request.status < 300]

    def events(self, job_id: str) -> list[dict[str, Any]]:
        """The accepted deliveries' payloads for one job, in order."""
        payloads = [json.loads(request.body) for request in self.delivered()]
        return [payload for payload in payloads if payload["job_id"] == job_id]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
