"""Hostile request bodies against a real server: what they cost it and how fast they are answered.

    .venv/bin/python benchmarks/body_limits.py [--server serve|daphne]

Starts the production server (scripts/serve, uvicorn) on a free loopback port with a fresh
SQLite catalogue of one generated song, then sends, one after another: a 1 GB raw POST
(declared and chunked), a 200 MB multipart upload, a 50 MB POST to a URL that does not
exist, a Content-Length of 999999999999 with no body, and a small Content-Length whose body
never comes.  Meanwhile a second client reads GET /api/songs/1/ in a loop.  For each attack
it prints the answer's status and time, the server's peak RSS above its resting RSS (read
from /proc every 10 ms) and the p95 of the concurrent reads.  Targets (issue 8): < 50 MB,
answered in < 1 s (or by request_body_timeout_s), p95 < 200 ms.  --server daphne runs the
same against Daphne, which reads every body whole before the application sees it.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python")
MB = 1_000_000
BLOCK = b"\0" * (256 * 1024)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def write_song(path: Path) -> None:
    """Twenty seconds of seeded tones, enough for one catalogued song."""
    rate = 16000
    rng = np.random.default_rng(5)
    t = np.arange(rate * 20) / rate
    notes = rng.uniform(200, 1500, size=80)
    signal = sum(np.sin(2 * np.pi * f * t) * (np.abs(t - i * 0.25) < 0.2) for i, f in enumerate(notes))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((0.3 * signal / np.max(np.abs(signal)) * 32767).astype("<i2").tobytes())


class Server:
    def __init__(self, kind: str, folder: Path) -> None:
        self.port = free_port()
        self.env = {
            **os.environ,
            "DEBUG": "0",
            "SECRET_KEY": "benchmark-only",
            "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
            "MEDIA_ROOT": str(folder / "media"),
            "DJANGO_SETTINGS_MODULE": "jamjar_site.settings",
        }
        self.env.pop("REDIS_URL", None)
        subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=self.env, check=True)
        songs = folder / "songs"
        songs.mkdir()
        write_song(songs / "one.wav")
        subprocess.run(
            [PY, "manage.py", "fingerprint_dir", str(songs), "--workers", "1", "--no-progress"],
            cwd=ROOT,
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        if kind == "serve":
            command = ["bash", str(ROOT / "scripts" / "serve"), f"127.0.0.1:{self.port}"]
        else:
            command = [
                str(ROOT / ".venv" / "bin" / "daphne"),
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "jamjar_site.asgi:application",
            ]
        self.log = open(folder / "server.log", "wb")  # noqa: SIM115  (closed by stop())
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.get("/api/songs/1/")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"the server did not answer; see {folder / 'server.log'}")

    def get(self, path: str) -> tuple[int, float]:
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            return response.status, time.perf_counter() - started
        finally:
            conn.close()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)
        self.log.close()


def attack(port: int, head: bytes, body_bytes: int, *, chunked: bool, deadline_s: float) -> tuple[str, float]:
    """Send head, then up to body_bytes of body in a thread; return (status line, seconds to it)."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(deadline_s)
    stop = threading.Event()

    def send_body() -> None:
        sent = 0
        try:
            while sent < body_bytes and not stop.is_set():
                block = BLOCK[: body_bytes - sent]
                sock.sendall(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
                sent += len(block)
            if chunked and not stop.is_set():
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed: the point

    started = time.perf_counter()
    sock.sendall(head)
    sender = threading.Thread(target=send_body, daemon=True)
    sender.start()
    try:
        data = b""
        while b"\r\n" not in data:
            block = sock.recv(4096)
            if not block:
                break
            data += block
        status = data.split(b"\r\n", 1)[0].decode("latin-1") or "(closed without an answer)"
    except TimeoutError:
        status = f"(no answer in {deadline_s:g} s)"
    except ConnectionResetError:
        status = "(connection reset without an answer)"
    elapsed = time.perf_counter() - started
    stop.set()
    sock.close()
    sender.join(timeout=5)
    return status, elapsed


def request_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        *(f"{k}: {v}" for k, v in headers.items()),
        "",
        "",
    ]
    return "\r\n".join(lines).encode()


def attacks() -> list[tuple[str, bytes, int, bool]]:
    boundary = "jamjarbench"
    multipart_head = f'--{boundary}\r\nContent-Disposition: form-data; name="audio"; filename="a.wav"\r\n\r\n'
    return [
        (
            "1 GB raw POST, declared",
            request_head(
                "POST",
                "/api/recognize/?sample_rate=16000",
                {"Content-Type": "application/octet-stream", "Content-Length": str(1000 * MB)},
            ),
            1000 * MB,
            False,
        ),
        (
            "1 GB raw POST, chunked",
            request_head(
                "POST",
                "/api/recognize/?sample_rate=16000",
                {"Content-Type": "application/octet-stream", "Transfer-Encoding": "chunked"},
            ),
            1000 * MB,
            True,
        ),
        (
            "200 MB multipart, declared",
            request_head(
                "POST",
                "/api/recognize/",
                {
                    "Content-Type": f"multipart/form-data; boundary={boundary}",
                    "Content-Length": str(200 * MB),
                },
            )
            + multipart_head.encode(),
            200 * MB,
            False,
        ),
        (
            "200 MB multipart, chunked",
            request_head(
                "POST",
                "/api/recognize/",
                {"Content-Type": f"multipart/form-data; boundary={boundary}", "Transfer-Encoding": "chunked"},
            )
            + b"%x\r\n%s\r\n" % (len(multipart_head), multipart_head.encode()),
            200 * MB,
            True,
        ),
        (
            "50 MB POST to a missing URL",
            request_head(
                "POST",
                "/no/such/page/",
                {"Content-Type": "application/octet-stream", "Content-Length": str(50 * MB)},
            ),
            50 * MB,
            False,
        ),
        (
            "Content-Length 999999999999, no body",
            request_head(
                "POST",
                "/api/recognize/",
                {"Content-Type": "application/octet-stream", "Content-Length": "999999999999"},
            ),
            0,
            False,
        ),
        (
            "Content-Length 1000, 10 bytes sent",
            request_head(
                "POST",
                "/api/recognize/?sample_rate=16000",
                {"Content-Type": "application/octet-stream", "Content-Length": "1000"},
            )
            + b"0123456789",
            0,
            False,
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server", choices=["serve", "daphne"], default="serve")
    parser.add_argument("--deadline", type=float, default=30.0, help="seconds to wait for each answer")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jamjar-body-bench-") as tmp:
        server = Server(args.server, Path(tmp))
        try:
            pid = server.process.pid
            time.sleep(1.0)
            for _ in range(20):  # warm the read path before measuring it
                server.get("/api/songs/1/")
            print(f"server: {args.server}, pid {pid}, resting RSS {rss_bytes(pid) / MB:.0f} MB")
            print(f"{'attack':<40} {'answer':<38} {'time':>8} {'+RSS':>9} {'GET p95':>9} {'GETs':>5}")
            failures = 0
            for name, head, size, chunked in attacks():
                resting = rss_bytes(pid)
                peak = [resting]
                latencies: list[float] = []
                done = threading.Event()

                def watch_rss(done=done, peak=peak) -> None:
                    while not done.is_set():
                        peak[0] = max(peak[0], rss_bytes(pid))
                        time.sleep(0.01)

                def read_songs(done=done, latencies=latencies) -> None:
                    while not done.is_set():
                        try:
                            latencies.append(server.get("/api/songs/1/")[1])
                        except OSError:
                            latencies.append(float("inf"))
                        time.sleep(0.02)

                threads = [threading.Thread(target=watch_rss), threading.Thread(target=read_songs)]
                for thread in threads:
                    thread.start()
                status, elapsed = attack(server.port, head, size, chunked=chunked, deadline_s=args.deadline)
                time.sleep(0.5)  # what the server does right after answering counts too
                done.set()
                for thread in threads:
                    thread.join()
                grown = (peak[0] - resting) / MB
                p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 2 else float("nan")
                timeout_case = status.startswith("HTTP/1.1 408")
                ok = grown < 50 and (elapsed < 1.0 or (timeout_case and elapsed < 11.0)) and p95 < 0.2
                failures += not ok
                print(
                    f"{name:<40} {status[:38]:<38} {elapsed:7.2f}s {grown:7.1f}MB {p95 * 1000:7.0f}ms {len(latencies):5d}"
                    f"{'' if ok else '  MISSED'}"
                )
            print(f"server RSS at the end: {rss_bytes(pid) / MB:.0f} MB")
            return 1 if failures else 0
        finally:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
