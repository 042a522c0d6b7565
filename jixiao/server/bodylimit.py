"""Every request body bounded while it is read, whatever its headers say.

An ASGI middleware, outermost of the application's own: it counts the bytes of each ``http.request``
message as the application reads them and stops the request at the route's limit, before any
authentication or form parsing has seen more than that. A declared ``Content-Length`` over the limit
is refused before a byte of the body is read; a chunked body (no length, any content type) is refused
as soon as it passes the limit.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from ..rules import error_codes

error_codes({"request.too_large": "请求内容超过上限"})

KB = 1024
MB = 1024 * KB


class BodyTooLarge(Exception):
    """Raised from ``receive`` when the body passes its limit; turned into a 413 here."""


@dataclass(frozen=True)
class Limits:
    """Bytes a request body may have: uploads get room for their files, every other route a form's worth."""
    upload: int
    import_: int
    form: int = 64 * KB
    upload_paths: tuple[str, ...] = ("/api/v1/submissions", "/api/v1/check")
    import_paths: tuple[str, ...] = ("/units/import", "/rounds")  # a round's form may carry its project list

    def of(self, path: str) -> int:
        if path in self.upload_paths:
            return self.upload
        if path in self.import_paths or (path.startswith("/rounds/") and path.endswith("/edit")):
            return self.import_
        return self.form


def _message(limit: int) -> str:
    size = f"{limit // MB} MB" if limit >= MB else f"{max(1, limit // KB)} KB"
    return f"请求内容超过 {size} 的上限，已拒绝 [request.too_large]"


class BodyLimit:
    def __init__(self, app: Callable[..., Awaitable[None]], limits: Limits):
        self.app, self.limits = app, limits

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.of(scope.get("path", ""))
        length = _content_length(scope)
        if length is not None and (length < 0 or length > limit):
            await _refuse(scope, send, limit)
            return
        seen = 0
        over = False
        started = False

        async def bounded_receive() -> dict[str, Any]:
            nonlocal seen, over
            if over:
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    over = True
                    raise BodyTooLarge
            return message

        async def watched_send(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                if over:  # the application swallowed the refusal and answered anyway: the refusal wins
                    raise BodyTooLarge
                started = True
            await send(message)

        try:
            await self.app(scope, bounded_receive, watched_send)
        except BodyTooLarge:
            if not started:
                await _refuse(scope, send, limit)
        except Exception:
            if over and not started:  # a parser wrapped the refusal in its own error
                await _refuse(scope, send, limit)
                return
            raise


def _content_length(scope: dict) -> int | None:
    for k, v in scope.get("headers", ()):
        if k == b"content-length":
            try:
                return int(v)
            except ValueError:
                return -1
    return None


async def _refuse(scope: dict, send: Callable, limit: int) -> None:
    """413 with a Chinese reason; the connection is closed so the rest of the body is never read."""
    message = _message(limit)
    accept = b""
    for k, v in scope.get("headers", ()):
        if k == b"accept":
            accept = v
    path = scope.get("path", "")
    if b"text/html" in accept and not path.startswith("/api/"):
        body = (f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>请求过大</title>'
                f"<h1>请求过大</h1><p>{message}</p><p><a href=\"/\">返回首页</a></p></html>").encode()
        ctype = b"text/html; charset=utf-8"
    else:
        body = json.dumps({"detail": message}, ensure_ascii=False).encode()
        ctype = b"application/json"
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})
