"""Load test of the live websocket: K concurrent streams paced in real time against a running server.

    DATABASE_URL=mysql://root@127.0.0.1:3306/jamjar_bench python -m benchmarks.live_load \
        --streams 8 --server-pid $(pgrep -f 'daphne.*jamjar') --url ws://127.0.0.1:8000/ws/identify/

Each stream plays a clip of a catalogued track (in the simulated-phone condition) or of a
track that is not in the catalogue, as 250 ms frames of 16 kHz PCM sent at the pace of
real time, and records what the server answered and after how much audio.  With
--server-pid it reads the server process's CPU time from /proc before and after, and
reports CPU milliseconds per second of streamed audio.

With --replay there is no server: the same streams are fed frame by frame, as fast as they
come, through LiveSession (what the websocket consumer runs for each frame) on this one
thread, and the CPU time of that thread (time.thread_time) is reported per second of audio:
the cost of recognition alone, without the web server, the event loop and the thread hops.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

CLIENT_RATE_HZ = 16000
FRAME_S = 0.25


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="ws://127.0.0.1:8000/ws/identify/")
    parser.add_argument("--streams", type=int, default=8, help="concurrent streams per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--unknown-share",
        type=float,
        default=0.25,
        help="share of streams playing music not in the catalogue",
    )
    parser.add_argument("--condition", default="phone")
    parser.add_argument("--server-pid", type=int, default=None)
    parser.add_argument(
        "--replay",
        action="store_true",
        help="no server: feed the streams through LiveSession on this thread and report its CPU time",
    )
    parser.add_argument("--corpus", default="/tmp/jamjar-bench-corpus")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument(
        "--warmup-s",
        type=float,
        default=4.0,
        help="seconds of one stream sent first and not counted: a fresh server's first stream "
        "also pays for opening its database connections and thread pool (0: none)",
    )
    return parser.parse_args()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


async def stream(url: str, pcm: bytes) -> dict:
    import websockets

    frame_bytes = int(CLIENT_RATE_HZ * FRAME_S) * 2
    started = time.perf_counter()
    sent_s = 0.0
    async with websockets.connect(url, origin="http://localhost", max_size=2**20) as ws:
        await ws.send(
            json.dumps(
                {"type": "start", "sample_rate": CLIENT_RATE_HZ, "encoding": "pcm_s16le", "channels": 1}
            )
        )
        assert json.loads(await ws.recv())["type"] == "listening"
        answer: dict = {}

        async def reader():
            async for message in ws:
                data = json.loads(message)
                if data["type"] in {"match", "no_match", "error"}:
                    answer.update(data)
                    return

        reading = asyncio.create_task(reader())
        for at in range(0, len(pcm), frame_bytes):
            if reading.done():
                break
            await ws.send(pcm[at : at + frame_bytes])
            sent_s += FRAME_S
            # Pace at real time: the frame is "recorded" before it is sent.
            await asyncio.sleep(max(0.0, started + sent_s - time.perf_counter()))
        if not reading.done():
            await ws.send(json.dumps({"type": "stop"}))
        await asyncio.wait_for(reading, timeout=30)
    return {**answer, "wall_s": time.perf_counter() - started, "sent_s": sent_s}


def main() -> None:
    args = parse_args()
    os.environ.setdefault("SECRET_KEY", "benchmark-only-key")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jamjar_site.settings")
    import django

    django.setup()
    from catalog.models import Song
    from recognition.engine.audio import decode_file, float_to_pcm16
    from recognition.evaluation import degrade

    rng = np.random.default_rng(args.seed)
    songs = list(Song.objects.exclude(source_path=""))
    catalogued = {s.source_path for s in songs}
    unknown = sorted(str(p) for p in Path(args.corpus).glob("*/*") if str(p.resolve()) not in catalogued)
    if not songs:
        sys.exit("the catalogue is empty: run `manage.py benchmark` first (same DATABASE_URL)")
    jobs = []
    for n in range(args.streams * args.rounds):
        is_unknown = unknown and random.Random(args.seed + n).random() < args.unknown_share
        path, song_id = (random.Random(n).choice(unknown), None) if is_unknown else (None, None)
        if not is_unknown:
            song = random.Random(n).choice(songs)
            path, song_id = song.source_path, song.pk
        audio = decode_file(path, sample_rate_hz=CLIENT_RATE_HZ)
        start = int(rng.uniform(0.1, 0.7) * max(1, len(audio) - 16 * CLIENT_RATE_HZ))
        clip = degrade.apply_condition(
            args.condition, audio[start : start + 16 * CLIENT_RATE_HZ], sample_rate_hz=CLIENT_RATE_HZ, rng=rng
        )
        jobs.append((song_id, float_to_pcm16(clip)))

    warmup = jobs[0][1][: int(args.warmup_s * CLIENT_RATE_HZ) * 2]
    results = []
    cpu_used = 0.0
    audio_streamed = 0.0
    if args.replay:
        if warmup:
            replay(warmup)
        for song_id, pcm in jobs:
            started = time.thread_time()
            answer = replay(pcm)
            cpu_used += time.thread_time() - started
            audio_streamed += answer["sent_s"]
            results.append((song_id, answer))
    else:
        if warmup:
            asyncio.run(_gather(args.url, [warmup]))
        for round_index in range(args.rounds):
            batch = jobs[round_index * args.streams : (round_index + 1) * args.streams]
            before = cpu_seconds(args.server_pid) if args.server_pid else None
            answers = asyncio.run(_gather(args.url, [pcm for _, pcm in batch]))
            if before is not None:
                cpu_used += cpu_seconds(args.server_pid) - before
            for (song_id, _), answer in zip(batch, answers, strict=False):
                audio_streamed += answer["sent_s"]
                results.append((song_id, answer))
    known = [(sid, a) for sid, a in results if sid is not None]
    unknown_results = [a for sid, a in results if sid is None]
    right = [a for sid, a in known if a.get("type") == "match" and a["match"]["song_id"] == sid]
    wrong = [a for sid, a in known if a.get("type") == "match" and a["match"]["song_id"] != sid]
    at_a_time = "one after another, in this process" if args.replay else f"{args.streams} at a time"
    print(
        f"{len(results)} streams ({at_a_time}, {args.condition} condition), {audio_streamed:.0f} s of audio streamed"
    )
    if known:
        listened = [a["seconds_listened"] for a in right]
        print(
            f"catalogued: {len(right)}/{len(known)} right, {len(wrong)} wrong; seconds listened before the answer: "
            f"median {statistics.median(listened) if listened else float('nan'):.2f}, "
            f"mean {statistics.mean(listened) if listened else float('nan'):.2f}, "
            f"max {max(listened) if listened else float('nan'):.2f}"
        )
    if unknown_results:
        named = sum(a.get("type") == "match" for a in unknown_results)
        print(f"unknown music: {named}/{len(unknown_results)} named as a song (the rest no match)")
        for a in unknown_results:
            if a.get("type") == "match":
                print(
                    f"  named: {a['match']['title']!r} after {a['seconds_listened']} s, confidence {a['match']['confidence']}"
                )
    if args.server_pid or args.replay:
        print(
            f"{'recognition' if args.replay else 'server'} CPU: {cpu_used:.2f} s for {audio_streamed:.0f} s of audio "
            f"= {1000 * cpu_used / audio_streamed:.1f} ms per second of audio"
        )


def replay(pcm: bytes) -> dict:
    """One stream through LiveSession, frame by frame: its answer, as the websocket sends it."""
    from recognition import conf
    from recognition.live import LiveSession

    session = LiveSession(sample_rate_hz=CLIENT_RATE_HZ, service=conf.service_settings())
    frame_bytes = int(CLIENT_RATE_HZ * FRAME_S) * 2
    sent_s, step = 0.0, None
    for at in range(0, len(pcm), frame_bytes):
        step = session.feed(pcm[at : at + frame_bytes])
        sent_s += FRAME_S
        if step.done:
            break
    if step is None or not step.done:
        step = session.stop()
    return {**step.messages[-1], "sent_s": sent_s}


async def _gather(url, pcms):
    return await asyncio.gather(*(stream(url, pcm) for pcm in pcms))


if __name__ == "__main__":
    main()
