"""A real `jixiao serve` on loopback for the tests that attack it as a client would: start, measure, stop."""
from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .conftest import PASSWORD

MB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jixiao(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jixiao", *args], input=stdin, capture_output=True, text=True,
                          timeout=120)


def add_unit_user(data: Path, name: str, db: str | None = None) -> str:
    """A unit account and its API token, made with the CLI as a bureau would."""
    extra = ["--db", db] if db else []
    r = jixiao("users", "add", name, "--role", "unit", "--unit", f"{name}单位", "--password-stdin", "--data",
               str(data), *extra, stdin=PASSWORD)
    assert r.returncode == 0, r.stderr
    return jixiao("users", "token", name, "--data", str(data), *extra).stdout.strip()


class Live:
    def __init__(self, data: Path, *args: str, db: str | None = None, port: int | None = None):
        self.data, self.args, self.db = data, args, db
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, ready: bool = True) -> "Live":
        cmd = [sys.executable, "-m", "jixiao", "serve", "--data", str(self.data), "--port", str(self.port),
               *self.args]
        if self.db:
            cmd += ["--db", self.db]
        # the log goes to a file: a pipe nobody reads would stop the server once its buffer is full
        self.log = self.data / "server.log"
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
        end = time.monotonic() + 60
        while time.monotonic() < end:
            try:
                r = httpx.get(self.url + "/healthz", timeout=5)
                if r.status_code == 200 and (not ready or httpx.get(self.url + "/readyz", timeout=20).status_code == 200):
                    return self
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise AssertionError(self.log.read_text(errors="replace"))
            time.sleep(0.2)
        raise AssertionError("server did not become ready")

    def rss(self) -> int:
        import psutil

        return psutil.Process(self.proc.pid).memory_info().rss

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def __enter__(self) -> "Live":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def chunked_flood(port: int, path: str, headers: dict[str, str], total: int, seconds: float = 60) -> tuple[int, int, bytes]:
    """POST ``total`` bytes in chunks without a Content-Length, reading as we go.

    Returns (HTTP status or 0, body bytes sent before the server answered or closed, the answer).
    """
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nTransfer-Encoding: chunked\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    s.sendall(head.encode("latin-1"))
    s.setblocking(False)
    piece = b"--jxb\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.xlsx\"\r\n\r\n"
    piece += b"PK\x03\x04" + b"\0" * (64 * 1024 - len(piece) - 4)
    frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    sent, pending, answer = 0, b"", b""
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            r, w, _ = select.select([s], [s] if sent < total or pending else [], [], 1.0)
            if r:
                got = s.recv(65536)
                answer += got
                if not got or b"\r\n\r\n" in answer:
                    break
                continue
            if w:
                if not pending:
                    if sent >= total:
                        pending = b"0\r\n\r\n"
                    else:
                        pending = frame
                        sent += len(piece)
                n = s.send(pending)
                pending = pending[n:]
        s.setblocking(True)
        s.settimeout(2)
        while b"\r\n\r\n" in answer and len(answer.split(b"\r\n\r\n", 1)[1]) < _length(answer):
            got = s.recv(65536)
            if not got:
                break
            answer += got
    except (BrokenPipeError, ConnectionResetError, TimeoutError):
        pass
    finally:
        s.close()
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    return status, sent, answer


def _length(answer: bytes) -> int:
    for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":", 1)[1])
    return 0
