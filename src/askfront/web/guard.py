"""Who may talk to the web chat, and how much they may upload: ASGI middleware.

- Host: only the names the server is bound to (plus ASKFRONT_ALLOWED_HOSTS). A page on
  another site that re-binds its own DNS name to 127.0.0.1 (DNS rebinding) sends its own
  name as Host, and is refused.
- Origin: a request that can change data (POST, PUT, PATCH, DELETE) from a page of another
  origin is refused, so no other site can delete, rebuild or upload through a visitor's
  browser.
- Uploads (POST /gradio_api/upload): at most `max_files` files and `max_bytes` per
  request, and no more than `max_bytes` held in Gradio's upload folder at once.

Starlette has TrustedHostMiddleware, but its bare "Invalid host header" names no setting,
and it cannot accept any IP address for a wildcard bind; nothing in Starlette or Gradio
checks Origin (Gradio's CORS only decides which responses a page may read) or counts
uploaded files (Gradio's parser allows 1,000), hence this module.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from python_multipart.exceptions import MultipartParseError
from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOOPBACK_NAMES = frozenset(
    {"localhost", "localhost.localdomain", "ip6-localhost", "127.0.0.1", "::1"}
)
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::"})
UPLOAD_PATH = "/gradio_api/upload"
_MB = 1024 * 1024


def is_loopback(host: str) -> bool:
    """Whether `host` (a bind address or a host name) is this machine's loopback."""
    if host.strip().strip("[]").lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class HostPolicy:
    """The Host names this server answers to."""

    names: frozenset[str]
    loopback: bool = False  # bound to loopback: every loopback address and name is ours
    any_ip: bool = False  # wildcard bind: an IP literal cannot come from DNS rebinding
    extra: frozenset[str] = frozenset()  # ASKFRONT_ALLOWED_HOSTS names, trusted as origins
    suffixes: tuple[str, ...] = ()  # from "*.example.org" entries: ".example.org"
    any_host: bool = False  # ASKFRONT_ALLOWED_HOSTS=*

    @classmethod
    def for_bind(cls, host: str, *, loopback: bool, allowed: str = "") -> HostPolicy:
        """The policy for a server bound to `host` (`loopback`: whether that is loopback),
        plus the comma-separated `allowed` names."""
        bind = host.strip().strip("[]").lower()
        names = {bind}
        wildcard = bind in WILDCARD_BINDS
        if loopback or wildcard:
            names |= LOOPBACK_NAMES
        if wildcard:
            names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
        entries = [e.strip().lower() for e in allowed.split(",") if e.strip()]
        plain = {e.strip("[]") for e in entries if not e.startswith("*")}
        suffixes = tuple(e[1:] for e in entries if e.startswith("*."))
        return cls(
            names=frozenset(names - {""}),
            loopback=loopback,
            any_ip=wildcard,
            extra=frozenset(plain),
            suffixes=suffixes,
            any_host="*" in entries,
        )

    def _named(self, name: str) -> bool:
        """Named in ASKFRONT_ALLOWED_HOSTS (not just by "*")."""
        return name in self.extra or (bool(self.suffixes) and name.endswith(self.suffixes))

    def allows(self, name: str) -> bool:
        """Whether a Host header naming `name` (lower case, no port) is served."""
        if not name:
            return False
        if self.any_host or name in self.names or self._named(name):
            return True
        ip = _ip(name)
        return ip is not None and (self.any_ip or (self.loopback and ip.is_loopback))

    def allows_origin(self, origin: str, host: tuple[str, int]) -> bool:
        """Whether a page at `origin` may change data on the server reached as `host`:
        same origin (scheme aside), another loopback name of a loopback server on the same
        port, or a name from ASKFRONT_ALLOWED_HOSTS (a proxy in front may change the port)."""
        parsed = _origin(origin)
        if parsed is None:
            return False  # "null" (sandboxed frames, file: pages) or garbage
        name, port = parsed
        if (name, port) == host or self._named(name):
            return True
        ip = _ip(name)
        is_loop = name in LOOPBACK_NAMES or (ip is not None and ip.is_loopback)
        return self.loopback and is_loop and port == host[1]


def _ip(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


def _split(netloc: str, default_port: int) -> tuple[str, int] | None:
    try:
        parts = urlsplit("//" + netloc)
        port = parts.port
    except ValueError:
        return None
    return (parts.hostname or "", port or default_port)


def _origin(origin: str) -> tuple[str, int] | None:
    scheme, _, rest = origin.partition("://")
    if scheme not in ("http", "https") or not rest or "/" in rest:
        return None
    return _split(rest, 443 if scheme == "https" else 80)


@dataclass(frozen=True)
class UploadLimits:
    max_files: int  # per request
    max_bytes: int  # per request, and held at once
    held_bytes: Callable[[Scope], int]  # what the upload folder holds for this server now


class UploadRefused(MultipartParseError):
    """Raised while an upload streams in. A MultipartParseError, so Gradio's parser deletes
    the files it has begun and answers 400 with this message."""


class RequestGuard:
    """The Host, Origin and upload checks, before any of Gradio's routes.

    Installed through FastAPI's `middleware` list, it runs inside the two layers Gradio adds
    itself (CORS, compression): Gradio's CORS layer still answers preflight requests, which
    change nothing; every request that reaches a route passes here first."""

    def __init__(self, app: ASGIApp, *, hosts: HostPolicy, uploads: UploadLimits) -> None:
        self.app = app
        self.hosts = hosts
        self.uploads = uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        problem, status = self._refusal(scope, headers)
        if problem:
            logger.warning("Refused %s %s: %s", scope["method"], scope["path"], problem)
            await PlainTextResponse(problem, status_code=status)(scope, receive, send)
            return
        if scope["method"] == "POST" and scope["path"].rstrip("/").endswith(UPLOAD_PATH):
            await self._upload(scope, receive, send, headers)
            return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope, headers: Headers) -> tuple[str | None, int]:
        """(message, HTTP status) for a request to refuse, else (None, 0)."""
        raw_host = headers.get("host", "")
        default_port = 443 if scope.get("scheme") == "https" else 80
        host = _split(raw_host, default_port)
        if host is None or not self.hosts.allows(host[0]):
            return (
                f"askfront does not answer to the host name {raw_host!r}. If that is how you "
                "reach this server, add the name to ASKFRONT_ALLOWED_HOSTS.",
                400,
            )
        origin = headers.get("origin")
        if (
            scope["method"] not in SAFE_METHODS
            and origin is not None
            and not self.hosts.allows_origin(origin, host)
        ):
            return (
                f"Refused: a page from {origin} may not change data on this server. If "
                "that site is yours (say, a proxy in front of askfront), add its host name "
                "to ASKFRONT_ALLOWED_HOSTS.",
                403,
            )
        return None, 0

    async def _upload(self, scope: Scope, receive: Receive, send: Send, headers: Headers) -> None:
        limits = self.uploads
        room = limits.max_bytes - limits.held_bytes(scope)
        declared = headers.get("content-length", "")
        size = int(declared) if declared.isdigit() else 0
        if size > room:
            problem = (
                f"This upload is {size / _MB:.1f} MB; the server can take "
                f"{max(room, 0) / _MB:.1f} MB more now (ASKFRONT_MAX_UPLOAD_TOTAL_MB is "
                f"{limits.max_bytes / _MB:g}). Upload fewer or smaller files."
            )
            logger.warning("Refused an upload: %s", problem)
            await PlainTextResponse(problem, status_code=413)(scope, receive, send)
            return
        counter = _PartCounter(headers.get("content-type", ""), limits.max_files, room)

        async def counted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                counter.feed(message.get("body", b""))
            return message

        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if counter.refusal is None:
                started = started or message["type"] == "http.response.start"
                await send(message)
            elif message["type"] == "http.response.start":
                # Gradio answers "400 Could not parse multipart request: ..."; say it plainly.
                started = True
                await _send_text(send, 413, counter.refusal)

        try:
            await self.app(scope, counted, watch)
        except UploadRefused as exc:  # only if Gradio stops catching its parser's errors
            if started:
                raise
            await _send_text(send, 413, str(exc))


async def _send_text(send: Send, status: int, text: str) -> None:
    body = text.encode("utf-8")
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _PartCounter:
    """Counts the bytes and the multipart parts of a streamed upload; raises UploadRefused
    once either passes its limit. Parts are counted by their boundary line, without
    parsing (Gradio's own parser does that)."""

    def __init__(self, content_type: str, max_files: int, max_bytes: int) -> None:
        boundary = ""
        for param in content_type.split(";")[1:]:
            key, _, value = param.strip().partition("=")
            if key.lower() == "boundary":
                boundary = value.strip('"')
        self.delimiter = ("--" + boundary).encode("latin-1") if boundary else b""
        self.max_files = max_files
        self.max_bytes = max_bytes
        self.bytes = 0
        self.delimiters = 0
        self._tail = b""
        self.refusal: str | None = None

    def _refuse(self, message: str) -> None:
        self.refusal = message
        raise UploadRefused(message)

    def feed(self, chunk: bytes) -> None:
        self.bytes += len(chunk)
        if self.bytes > self.max_bytes:
            self._refuse(
                f"Upload refused: more than the {self.max_bytes / _MB:.1f} MB the server can "
                "take now (ASKFRONT_MAX_UPLOAD_TOTAL_MB). Upload fewer or smaller files."
            )
        if not self.delimiter:
            return
        data = self._tail + chunk
        self.delimiters += data.count(self.delimiter)
        # Keep the end of the chunk so a delimiter split across two chunks is counted once.
        keep = len(self.delimiter) - 1
        self._tail = data[-keep:] if keep else b""
        # n parts have n delimiter lines plus the closing "--boundary--".
        if self.delimiters - 1 > self.max_files:
            self._refuse(
                f"Upload refused: more than {self.max_files} files at once "
                "(ASKFRONT_MAX_UPLOAD_FILES). Upload them in smaller groups."
            )
