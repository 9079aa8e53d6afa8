"""Webhooks: job events POSTed to a client's URL, signed, retried with backoff, never to private addresses.

Signature: `Schedlab-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. Receivers
recompute it with the deployment's `SCHEDLAB_WEBHOOK_SECRET` and reject stale timestamps.

Addresses are checked when a job is submitted and again before each delivery (a name may resolve elsewhere
later): loopback, link-local, private, reserved and multicast addresses are refused unless the host or one of
its addresses is in `SCHEDLAB_WEBHOOK_ALLOWED_HOSTS` (names, IPs or CIDR networks).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import queue
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import httpx

from service.contract import Webhook, WebhookEvent, utcnow
from service.errors import SpecError

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "Schedlab-Signature"
EVENT_HEADER = "Schedlab-Event"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, tolerance_s: int = 300) -> bool:
    """What a receiver does: recompute the signature, in constant time, and refuse stale deliveries."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), f"t={timestamp},v1={parts.get('v1', '')}")


def check_webhook_url(url: str, allowed_hosts: list[str]) -> None:
    """Raise `SpecError` unless `url` is http(s) and resolves only to public addresses (or allowed ones)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise SpecError("webhook.url", f"must be an http or https URL with a host, got {url!r}")
    if parsed.username or parsed.password:
        raise SpecError("webhook.url", "must not carry credentials")
    host = parsed.hostname
    try:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        addresses = {info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}
    except (OSError, ValueError) as error:
        raise SpecError("webhook.url", f"host {host!r} does not resolve: {error}") from error
    for address in addresses:
        ip = ipaddress.ip_address(str(address).split("%", 1)[0])
        if _is_internal(ip) and not _allowed(host, ip, allowed_hosts):
            raise SpecError(
                "webhook.url",
                f"{host} resolves to {ip}, a loopback, link-local or private address; "
                "allow it with SCHEDLAB_WEBHOOK_ALLOWED_HOSTS",
            )


def _is_internal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_reserved or ip.is_multicast or ip.is_unspecified


def _allowed(host: str, ip: ipaddress.IPv4Address | ipaddress.IPv6Address, allowed_hosts: list[str]) -> bool:
    for entry in allowed_hosts:
        if entry == host:
            return True
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


@dataclass
class _Delivery:
    webhook: Webhook
    event: WebhookEvent
    body: bytes


class WebhookSender:
    """Delivers events on a background thread, so a slow receiver never slows a GPU job."""

    def __init__(self, secret: str, allowed_hosts: list[str], max_attempts: int = 5, backoff_s: float = 0.5) -> None:
        self.secret = secret
        self.allowed_hosts = allowed_hosts
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self._queue: queue.Queue[_Delivery | None] = queue.Queue()
        self._client = httpx.Client(timeout=5.0, follow_redirects=False)
        self._thread = threading.Thread(target=self._run, name="schedlab-webhooks", daemon=True)
        self._thread.start()

    def send(self, webhook: Webhook | None, event: WebhookEvent, job_id: str, data: dict[str, Any]) -> None:
        if webhook is None or event not in webhook.events:
            return
        payload = {"event": event.value, "job_id": job_id, "sent_at": utcnow().isoformat(), "data": data}
        self._queue.put(_Delivery(webhook, event, json.dumps(payload, separators=(",", ":")).encode()))

    def close(self, timeout_s: float = 10.0) -> None:
        """Deliver what is queued (within `timeout_s`), then stop."""
        self._queue.put(None)
        self._thread.join(timeout_s)
        self._client.close()

    def _run(self) -> None:
        while (delivery := self._queue.get()) is not None:
            self._deliver(delivery)

    def _deliver(self, delivery: _Delivery) -> None:
        url = delivery.webhook.url
        for attempt in range(1, self.max_attempts + 1):
            try:
                check_webhook_url(url, self.allowed_hosts)  # again: DNS may have changed since submission
                headers = {
                    "Content-Type": "application/json",
                    EVENT_HEADER: delivery.event.value,
                    SIGNATURE_HEADER: sign(self.secret, int(time.time()), delivery.body),
                }
                response = self._client.post(url, content=delivery.body, headers=headers)
                if response.is_success:
                    return
                reason = f"HTTP {response.status_code}"
            except SpecError as error:
                logger.warning("webhook %s refused: %s", delivery.event.value, error.message)
                return
            except httpx.HTTPError as error:
                reason = f"{error.__class__.__name__}: {error}"
            if attempt < self.max_attempts:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
        logger.warning("webhook %s to %s failed after %d attempts: %s", delivery.event.value, url, attempt, reason)
