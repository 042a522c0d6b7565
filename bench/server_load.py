"""Load benchmark of the submission server (not a timed test).

N concurrent clients upload M generated workbooks through ``POST /api/v1/submissions`` (one file per
request, each file from one of U units, as a bureau's season has them: ``--units 1`` puts every file on one
unit) to a ``jixiao serve`` started here; then 20 clients call the stateless ``POST /api/v1/check``.
Prints accepted/s, checked/s (end to end: first upload → last check stored), the CPU per file of the web
process, its workers and the clients over the same span, p50/p99 upload latency,
p50/p99 of /api/v1/check, the server's peak memory (process and workers), lost submissions (answered with
an id but absent: must be 0) and the ratio of checked/s to ``jixiao check --jobs 2`` on the same files.

    python bench/server_load.py [--clients 20] [--files 2000] [--units 100] [--workers 2] [--db URL]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

HERE = Path(__file__).resolve().parent


def cpu_seconds(server_pid: int) -> tuple[float, float, float, float]:
    """CPU seconds so far of the web process (user + system), of its worker processes, of this process (the
    clients), and the web process's system time alone. Workers that already exited are counted by the web
    process's children times."""
    web = psutil.Process(server_pid)
    t = web.cpu_times()
    workers = t.children_user + t.children_system
    for child in web.children(recursive=True):
        try:
            c = child.cpu_times()
            workers += c.user + c.system
        except psutil.Error:
            pass
    me = psutil.Process().cpu_times()
    return t.user + t.system, workers, me.user + me.system, t.system


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def workbooks(n: int) -> Path:
    from jixiao.samples import submissions

    folder = HERE / "data" / f"server-{n}"
    if not (folder / "manifest.json").exists():
        shutil.rmtree(folder, ignore_errors=True)
        print(f"generating {n} workbooks into {folder} …", file=sys.stderr)
        submissions.generate(folder, n, seed=2026, error_share=0.5)
    return folder


def cli_rate(folder: Path, files: int) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "jixiao", "check", str(folder), "--jobs", "2", "--quiet"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return files / (time.perf_counter() - t)


def jixiao(*args: str, stdin: str | None = None) -> str:
    r = subprocess.run([sys.executable, "-m", "jixiao", *args], input=stdin, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(r.stderr)
    return r.stdout.strip()


class Peak(threading.Thread):
    """Samples the resident memory of a process and its children."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.proc, self.peak, self.stop = psutil.Process(pid), 0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.2)


def multipart(name: str, data: bytes) -> tuple[bytes, str]:
    """The body a browser sends for one file field, and its content type: encoded here in one join, so the
    load generator (which shares the cores with the server) spends on each request no more than it must."""
    boundary = "jixiao-bench-" + os.urandom(8).hex()
    quoted = name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")  # as the HTML standard has it
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{quoted}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n").encode()
    return b"".join((head, data, f"\r\n--{boundary}--\r\n".encode())), f"multipart/form-data; boundary={boundary}"


async def upload_all(base: str, tokens: list[str], paths: list[Path], clients: int
                     ) -> tuple[list[str], list[float], list[float], int, float]:
    """Ids accepted, latencies as the clients see them and as the server's handler took (Server-Timing),
    failed uploads, seconds."""
    queue: asyncio.Queue = asyncio.Queue()
    for k, p in enumerate(paths):
        queue.put_nowait((p, tokens[k % len(tokens)]))  # file k from unit k mod U
    ids: list[str] = []
    lat: list[float] = []
    app: list[float] = []
    failed = 0

    async def worker() -> None:
        nonlocal failed
        async with httpx.AsyncClient(base_url=base, timeout=120) as c:
            while not queue.empty():
                p, token = queue.get_nowait()
                t = time.perf_counter()
                body, kind = multipart(p.name, p.read_bytes())
                try:
                    r = await c.post("/api/v1/submissions", content=body,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": kind})
                except httpx.HTTPError:
                    failed += 1
                    continue
                lat.append(time.perf_counter() - t)
                if "server-timing" in r.headers:
                    app.append(float(r.headers["server-timing"].split("dur=")[1]) / 1000)
                if r.status_code == 202:
                    ids.extend(s["id"] for s in r.json()["submissions"])
                else:
                    failed += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return ids, lat, app, failed, time.perf_counter() - t0


async def check_latency(base: str, token: str, data: bytes, clients: int,
                        per_client: int) -> tuple[list[float], list[float]]:
    """Latencies of POST /api/v1/check as the clients see them, and as the server's handler took (Server-Timing)."""
    lat: list[float] = []
    app: list[float] = []

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=120,
                                     headers={"Authorization": f"Bearer {token or 'jx_invalid'}"}) as c:
            for _ in range(per_client):
                t = time.perf_counter()
                r = await c.post("/api/v1/check", files=[("file", ("book.xlsx", data))])
                lat.append(time.perf_counter() - t)
                assert r.status_code == (200 if token else 401), r.text
                app.append(float(r.headers["server-timing"].split("dur=")[1]) / 1000)

    await asyncio.gather(*(worker() for _ in range(clients)))
    return lat, app


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--units", type=int, default=100, help="units the files come from (one account each)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--db", default=None, help="PostgreSQL URL (default: SQLite in a temporary data folder)")
    ap.add_argument("--check-requests", type=int, default=10, help="/api/v1/check calls per client")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--serve-arg", action="append", default=[], help="an argument passed to jixiao serve (repeat)")
    a = ap.parse_args()

    folder = workbooks(a.files)
    paths = sorted(folder.glob("*.xlsx"))[: a.files]
    print("timing `jixiao check --jobs 2` on the same files …", file=sys.stderr)
    cli_before = cli_rate(folder, len(paths))

    data = Path(tempfile.mkdtemp(prefix="jixiao-bench-"))
    extra = ["--db", a.db] if a.db else []
    jixiao("users", "add", "bench", "--role", "unit", "--unit", "压测单位", "--password-stdin", "--data", str(data),
           *extra, stdin="bench-password\n")
    token = jixiao("users", "token", "bench", "--data", str(data), *extra)  # the first unit; made the database
    from jixiao.server.accounts import add_user, issue_token
    from jixiao.server.db import Round, make_engine, sessions

    engine = make_engine(a.db or f"sqlite:///{data / 'jixiao.db'}")
    with sessions(engine).begin() as db:
        rnd = Round(name="压测", year=2024, kinds="dept")
        db.add(rnd)
        db.flush()
        rid = rnd.id
        tokens = [token]
        for u in range(1, max(1, a.units)):
            add_user(db, f"bench{u:04d}", "unit", "bench-password", unit=f"压测单位{u:04d}")
            tokens.append(issue_token(db, f"bench{u:04d}"))
        add_user(db, "bench-bureau", "bureau", "bench-password")
        bureau = issue_token(db, "bench-bureau")  # counts every unit's files
    engine.dispose()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "jixiao", "serve", "--data", str(data), "--port", str(port),
                               "--workers", str(a.workers), *extra, *a.serve_arg], start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        peak = Peak(server.pid)
        peak.start()
        h = {"Authorization": f"Bearer {bureau}"}
        cpu0 = cpu_seconds(server.pid)
        t0 = time.perf_counter()
        ids, lat, upload_app, failed, upload_s = asyncio.run(upload_all(base, tokens, paths, a.clients))
        while True:
            done = httpx.get(f"{base}/api/v1/submissions", params={"round": rid, "status": "checked", "limit": 1},
                             headers=h, timeout=60).json()["total"]
            if done >= len(ids):
                break
            time.sleep(0.2)
        e2e = time.perf_counter() - t0
        cpu = [b - a for a, b in zip(cpu0, cpu_seconds(server.pid))]
        present = set()
        offset = 0
        while True:
            page = httpx.get(f"{base}/api/v1/submissions", params={"limit": 1000, "offset": offset}, headers=h,
                             timeout=60).json()["submissions"]
            present |= {s["id"] for s in page}
            offset += 1000
            if len(page) < 1000:
                break
        lost = len(set(ids) - present)
        one = paths[0].read_bytes()
        check_lat, check_app = asyncio.run(check_latency(base, token, one, 20, a.check_requests))
        # the floor set by this machine and this client: the same requests refused at once (401)
        floor_lat, _ = asyncio.run(check_latency(base, "", one, 20, a.check_requests))
        peak.stop.set()
        print("timing `jixiao check --jobs 2` again …", file=sys.stderr)
        cli = max(cli_before, cli_rate(folder, len(paths)))  # the faster of before and after: the harder ratio
        out = {
            "files": len(paths), "units": len(tokens), "clients": a.clients, "workers": a.workers, "db": "postgresql" if a.db else "sqlite",
            "accepted": len(ids), "failed_uploads": failed, "lost": lost,
            "accepted_per_s": round(len(ids) / upload_s, 1), "checked_per_s": round(len(ids) / e2e, 1),
            "upload_p50_ms": round(pct(lat, 50) * 1000, 1), "upload_p99_ms": round(pct(lat, 99) * 1000, 1),
            "upload_server_p50_ms": round(pct(upload_app, 50) * 1000, 1),
            "upload_server_p99_ms": round(pct(upload_app, 99) * 1000, 1),
            "check_api_p50_ms": round(pct(check_lat, 50) * 1000, 1),
            "check_api_p99_ms": round(pct(check_lat, 99) * 1000, 1),
            "check_api_requests": len(check_lat),
            "check_api_server_p50_ms": round(pct(check_app, 50) * 1000, 1),
            "check_api_server_p99_ms": round(pct(check_app, 99) * 1000, 1),
            "refused_401_p50_ms": round(pct(floor_lat, 50) * 1000, 1),
            "refused_401_p99_ms": round(pct(floor_lat, 99) * 1000, 1),
            "load_average": round(os.getloadavg()[0], 2),
            "peak_memory_mb": round(peak.peak / 1e6, 1), "cli_jobs2_per_s": round(cli, 1),
            "cpu_seconds": {"web": round(cpu[0], 2), "workers": round(cpu[1], 2), "clients": round(cpu[2], 2)},
            "cpu_ms_per_file": {k: round(v * 1000 / max(1, len(ids)), 2) for k, v in
                                zip(("web", "workers", "clients", "web_system"), cpu)},
            "ratio_to_cli": round(len(ids) / e2e / cli, 3), "cpus": os.cpu_count(),
        }
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        server.wait(timeout=60)
        shutil.rmtree(data, ignore_errors=True)
    if a.json:
        print(json.dumps(out, ensure_ascii=False, indent=1))
    else:
        print(f"{out['accepted']} of {out['files']} workbooks from {out['units']} units accepted by {a.clients} clients "
              f"({out['db']}, {a.workers} workers, {out['cpus']} CPUs)")
        print(f"accepted/s           {out['accepted_per_s']}")
        print(f"checked/s (e2e)      {out['checked_per_s']}   jixiao check --jobs 2: {out['cli_jobs2_per_s']}/s   "
              f"ratio {out['ratio_to_cli']:.1%}")
        per = out["cpu_ms_per_file"]
        print(f"CPU, upload → checked  web {per['web']} ms/file (system {per['web_system']})   workers {per['workers']} ms/file   "
              f"clients {per['clients']} ms/file   ({sum(out['cpu_seconds'].values()):.1f} s of "
              f"{e2e * (out['cpus'] or 1):.1f} s the cores had)")
        print(f"upload latency       p50 {out['upload_p50_ms']} ms   p99 {out['upload_p99_ms']} ms")
        print(f"  in the server      p50 {out['upload_server_p50_ms']} ms   p99 {out['upload_server_p99_ms']} ms")
        print(f"/api/v1/check        p50 {out['check_api_p50_ms']} ms   p99 {out['check_api_p99_ms']} ms "
              f"({out['check_api_requests']} requests, 20 clients)")
        print(f"  in the server      p50 {out['check_api_server_p50_ms']} ms   p99 {out['check_api_server_p99_ms']} ms "
              f"(Server-Timing: from the app receiving the request to its answer)")
        print(f"  floor (401 at once) p50 {out['refused_401_p50_ms']} ms   p99 {out['refused_401_p99_ms']} ms "
              f"(same clients, same body: what the machine and the client add)")
        print(f"peak memory          {out['peak_memory_mb']} MB (server and workers)")
        print(f"lost                 {out['lost']}   failed uploads {out['failed_uploads']}")
        print(f"load average         {out['load_average']} (1 min, at the end; the machine is shared)")
    return 1 if out["lost"] else 0


if __name__ == "__main__":
    sys.exit(main())
