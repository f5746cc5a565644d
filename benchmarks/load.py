"""Concurrent chat clients against the web chat's /ask API, over loopback only.

    .venv/bin/python benchmarks/load.py http://127.0.0.1:7860/ --clients 50 --per-client 10

Each client sends its questions one after another (it waits for an answer before asking
again), as a person in a chat does, with no pause. All clients run in one asyncio loop
with raw HTTP, one POST /gradio_api/run/ask per answer (the endpoint is not queued).
gradio_client spends a thread and several requests per call, and on a 2-core machine
that CPU would be taken from the server being measured.

Bounded: at most clients x per-client requests, and everything stops at --deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass
class LoadResult:
    clients: int
    latencies_s: list[float] = field(default_factory=list)
    session_setup_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # Every answer received, session setup included, as (question, answer JSON).
    answers: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_s)

        def pct(p: float) -> float | None:
            if not lat:
                return None
            return lat[min(len(lat) - 1, round(p / 100 * (len(lat) - 1)))] * 1000

        return {
            "clients": self.clients,
            "answers": len(lat),
            "errors": len(self.errors),
            "error_examples": sorted(set(self.errors))[:3],
            "seconds": round(self.seconds, 2),
            "answers_per_s": round(len(lat) / self.seconds, 1) if self.seconds else None,
            "p50_ms": pct(50),
            "p95_ms": pct(95),
            "max_ms": pct(100),
            "mean_ms": statistics.fmean(lat) * 1000 if lat else None,
            "session_setup_max_ms": max(self.session_setup_s) * 1000
            if self.session_setup_s
            else None,
        }


def _check_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"Refusing to load-test {host}: only loopback addresses are allowed.")


def _payload(data: Any) -> dict[str, Any]:
    if not isinstance(data, list) or not data or not isinstance(data[0], dict):
        raise RuntimeError(f"unexpected payload: {str(data)[:200]}")
    if "answer" not in data[0]:
        raise RuntimeError(f"no answer in payload: {str(data[0])[:200]}")
    return data[0]


async def _ask(client: Any, base: str, question: str, session: str) -> dict[str, Any]:
    """One answer: a single POST, since /ask is not queued (web/app.py); raises on any error."""
    # A session hash, as the browser and gradio_client send: without one Gradio builds a
    # fresh session state (a config for every component of the UI) per request.
    body = {"data": [question, "[]"], "session_hash": session}
    resp = await client.post(f"{base}gradio_api/run/ask", json=body)
    resp.raise_for_status()
    return _payload(resp.json().get("data"))


async def run_clients(
    url: str,
    questions: Sequence[str],
    clients: int,
    per_client: int,
    deadline_s: float,
) -> LoadResult:
    """Every client asks `per_client` questions in turn; returns latencies, errors, answers."""
    import httpx

    base = url if url.endswith("/") else url + "/"
    result = LoadResult(clients)
    # Idle connections are dropped before the server would close them (uvicorn: 5 s), so a
    # request never races a server-side close (seen as ReadError).
    limits = httpx.Limits(
        max_connections=2 * clients, max_keepalive_connections=2 * clients, keepalive_expiry=4.0
    )
    timeout = httpx.Timeout(deadline_s)
    stop_at = time.perf_counter() + deadline_s

    ready = asyncio.Barrier(clients)

    async def one_client(n: int, client: httpx.AsyncClient) -> None:
        rng = random.Random(n)  # each client its own order; seeded, so runs are comparable
        session = f"load-{n:04d}-{rng.getrandbits(32):08x}"
        # Opening the chat: the first request of a session builds Gradio's session state.
        # Timed apart, like a page load, then every client starts asking at the same moment.
        started = time.perf_counter()
        question = rng.choice(questions)
        try:
            result.answers.append((question, await _ask(client, base, question, session)))
            result.session_setup_s.append(time.perf_counter() - started)
        except Exception as exc:
            result.errors.append(f"session setup: {type(exc).__name__}: {exc}"[:300])
        await ready.wait()

        async def ask_one(question: str) -> None:
            result.answers.append((question, await _ask(client, base, question, session)))

        await timed_questions(result, ask_one, rng, questions, per_client, stop_at)

    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        started = time.perf_counter()
        tasks = [asyncio.create_task(one_client(n, client)) for n in range(clients)]
        _, pending = await asyncio.wait(tasks, timeout=deadline_s + 5)
        for task in pending:
            task.cancel()
            result.errors.append("client cancelled at the deadline")
        result.seconds = time.perf_counter() - started
    return result


def run_load(
    url: str,
    questions: Sequence[str],
    *,
    clients: int = 50,
    per_client: int = 10,
    deadline_s: float = 300.0,
) -> dict[str, Any]:
    """Run the load and return its summary (latency percentiles in ms, error count)."""
    _check_loopback(url)
    if not questions:
        raise ValueError("no questions to ask")
    return asyncio.run(run_clients(url, questions, clients, per_client, deadline_s)).summary()


async def timed_questions(
    result: LoadResult,
    ask_one: Callable[[str], Awaitable[None]],
    rng: random.Random,
    questions: Sequence[str],
    per_client: int,
    stop_at: float,
) -> None:
    """One client's timed questions (this benchmark and openai_load.py): each latency, or
    the error, goes into `result`; none is sent after `stop_at`."""
    for _ in range(per_client):
        if time.perf_counter() > stop_at:
            result.errors.append("deadline reached before the question was sent")
            return
        question = rng.choice(questions)
        started = time.perf_counter()
        try:
            await ask_one(question)
            result.latencies_s.append(time.perf_counter() - started)
        except Exception as exc:  # counted; the summary shows examples
            result.errors.append(f"{type(exc).__name__}: {exc}"[:300])


def arguments(
    description: str | None, url_help: str, deadline_help: str
) -> argparse.ArgumentParser:
    """The options every load benchmark takes (this one and openai_load.py)."""
    p = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawTextHelpFormatter
    )
    p.add_argument("url", help=url_help)
    p.add_argument("--questions", help="a test-set JSONL (default: tests/data/seed_testset.jsonl)")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--per-client", type=int, default=10)
    p.add_argument("--deadline", type=float, default=300.0, help=deadline_help)
    return p


def seed_questions(path: str | None) -> list[str]:
    """The questions of a test set that stand alone (no history): the seed set by default."""
    from pathlib import Path

    found = Path(path or Path(__file__).parent.parent / "tests/data/seed_testset.jsonl")
    items = [json.loads(line) for line in found.read_text().splitlines() if line.strip()]
    return [q["question"] for q in items if not q.get("history")]


def main(argv: Sequence[str] | None = None) -> int:
    p = arguments(
        __doc__, "the web chat, e.g. http://127.0.0.1:7860/ (loopback only)",
        "seconds, for the whole load",
    )  # fmt: skip
    args = p.parse_args(argv)
    summary = run_load(
        args.url,
        seed_questions(args.questions),
        clients=args.clients,
        per_client=args.per_client,
        deadline_s=args.deadline,
    )
    print(json.dumps(summary, indent=2))
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
