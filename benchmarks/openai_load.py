"""Concurrent clients against the OpenAI-compatible endpoint and the /ask API of one server,
in the same run, over loopback only.

    .venv/bin/askfront serve &        # or: python app.py
    .venv/bin/python benchmarks/openai_load.py http://127.0.0.1:7860/ --clients 50 \\
        --per-client 10 --rounds 3

Each round runs three phases one after another, each with `--clients` clients that ask
`--per-client` questions in turn (as people in a chat do, no pause): the /ask API
(POST /gradio_api/run/ask, the baseline), POST /v1/chat/completions, and the same with
"stream": true (timed to the last event). Phases alternate within every round, so a
machine that slows down during the run slows all three; the report gives each phase's
p50/p95 per round, their medians over the rounds, and the ratio of the OpenAI p95 to the
/ask p95 of the same round (the target: within 2x). Raw HTTP from one asyncio loop, as in
benchmarks/load.py, whose LoadResult (the one definition of the percentiles) it reuses:
on a 2-core machine a heavier client would take CPU from the server being measured.

Bounded: at most rounds x 3 x clients x per-client requests; each phase stops at
--deadline seconds.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import LoadResult, _check_loopback, _payload, arguments, seed_questions, timed_questions

PHASES = ("ask_api", "openai", "openai_stream")
Ask = Callable[[Any, str, str, int], Awaitable[None]]  # (client, base, question, n)


async def _ask_api(client: Any, base: str, question: str, n: int) -> None:
    body = {"data": [question, "[]"], "session_hash": f"openai-load-{n:04d}"}
    resp = await client.post(f"{base}gradio_api/run/ask", json=body)
    resp.raise_for_status()
    _payload(resp.json().get("data"))


def _check_reply(content: str, data: dict[str, Any]) -> None:
    if "citations" not in data or "askfront" not in data:
        raise RuntimeError(f"no citations field: {str(data)[:200]}")
    if not content:
        raise RuntimeError("empty content")


async def _openai(client: Any, base: str, question: str, n: int) -> None:
    body = {"model": "askfront", "messages": [{"role": "user", "content": question}]}
    resp = await client.post(f"{base}v1/chat/completions", json=body)
    resp.raise_for_status()
    data = resp.json()
    _check_reply(data["choices"][0]["message"]["content"], data)


async def _openai_stream(client: Any, base: str, question: str, n: int) -> None:
    body = {
        "model": "askfront",
        "messages": [{"role": "user", "content": question}],
        "stream": True,
    }
    content, last, done = "", {}, False
    async with client.stream("POST", f"{base}v1/chat/completions", json=body) as resp:
        resp.raise_for_status()
        async for line in resp.aiter_lines():
            if not line.startswith("data: "):
                continue
            if line == "data: [DONE]":
                done = True
                break
            last = json.loads(line[len("data: ") :])
            if "error" in last:
                raise RuntimeError(f"error event: {last['error']}")
            content += last["choices"][0]["delta"].get("content") or ""
    if not done:
        raise RuntimeError("the stream ended without [DONE]")
    _check_reply(content, last)


ASKS: dict[str, Ask] = {"ask_api": _ask_api, "openai": _openai, "openai_stream": _openai_stream}


async def run_phase(
    base: str, ask: Ask, questions: Sequence[str], clients: int, per_client: int, deadline_s: float
) -> LoadResult:
    """`clients` clients, each asking `per_client` questions in turn, all started together."""
    import httpx

    result = LoadResult(clients)
    # Idle connections are dropped before uvicorn would close them (5 s), as in load.py.
    limits = httpx.Limits(
        max_connections=2 * clients, max_keepalive_connections=2 * clients, keepalive_expiry=4.0
    )
    stop_at = time.perf_counter() + deadline_s
    ready = asyncio.Barrier(clients)

    async def one_client(n: int, client: httpx.AsyncClient) -> None:
        rng = random.Random(n)  # seeded: every phase asks the same questions in the same order
        # One untimed question first, in every phase alike: for the /ask API it builds
        # Gradio's session state, which a chat page does once, at its load.
        try:
            await ask(client, base, questions[n % len(questions)], n)
        except Exception as exc:
            result.errors.append(f"setup: {type(exc).__name__}: {exc}"[:300])
        await ready.wait()

        async def ask_one(question: str) -> None:
            await ask(client, base, question, n)

        await timed_questions(result, ask_one, rng, questions, per_client, stop_at)

    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(deadline_s)) as client:
        started = time.perf_counter()
        tasks = [asyncio.create_task(one_client(n, client)) for n in range(clients)]
        _, pending = await asyncio.wait(tasks, timeout=deadline_s + 5)
        for task in pending:
            task.cancel()
            result.errors.append("client cancelled at the deadline")
        result.seconds = time.perf_counter() - started
    return result


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 1) if present else None


def run_benchmark(
    url: str,
    questions: Sequence[str],
    *,
    clients: int = 50,
    per_client: int = 10,
    rounds: int = 3,
    deadline_s: float = 300.0,
    phases: Sequence[str] = PHASES,
) -> dict[str, Any]:
    """Every round runs each phase once; returns the per-round summaries and the medians."""
    _check_loopback(url)
    if not questions:
        raise ValueError("no questions to ask")
    base = url if url.endswith("/") else url + "/"
    per_round: list[dict[str, dict[str, Any]]] = []
    for _ in range(rounds):
        summaries = {}
        for phase in phases:
            done = asyncio.run(
                run_phase(base, ASKS[phase], questions, clients, per_client, deadline_s)
            )
            summaries[phase] = done.summary()
        for phase in phases:
            base_p95 = summaries.get("ask_api", {}).get("p95_ms")
            p95 = summaries[phase]["p95_ms"]
            summaries[phase]["p95_vs_ask_api"] = (
                round(p95 / base_p95, 2) if p95 is not None and base_p95 else None
            )
        per_round.append(summaries)
    median = {
        phase: {
            key: _median([r[phase][key] for r in per_round])
            for key in ("p50_ms", "p95_ms", "p95_vs_ask_api", "answers_per_s")
        }
        for phase in phases
    }
    errors = {phase: sum(r[phase]["errors"] for r in per_round) for phase in phases}
    return {
        "clients": clients,
        "per_client": per_client,
        "rounds": rounds,
        "errors": errors,
        "median": median,
        "rounds_detail": per_round,
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = arguments(
        __doc__,
        "the server, e.g. http://127.0.0.1:7860/ (loopback only)",
        "seconds, for each phase",
    )
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)
    report = run_benchmark(
        args.url,
        seed_questions(args.questions),
        clients=args.clients,
        per_client=args.per_client,
        rounds=args.rounds,
        deadline_s=args.deadline,
    )
    print(json.dumps(report, indent=2))
    return 1 if any(report["errors"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
