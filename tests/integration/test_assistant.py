"""The seed test set through the real Assistant: facts with citations, refusals, follow-ups."""

from __future__ import annotations

import json
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest

from askfront.assistant import Assistant
from askfront.core.config import Settings
from paths import DATA

SEED = DATA / "seed_testset.jsonl"
ITEMS = [json.loads(line) for line in SEED.read_text(encoding="utf-8").splitlines() if line]


def _norm(text: str) -> str:
    text = text.lower().replace("\u00a0", " ")
    text = "".join(c for c in text if c not in string.punctuation + "’‘“”")
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def _tagged(tag: str) -> list[dict]:  # type: ignore[type-arg]
    return [q for q in ITEMS if tag in q.get("tags", [])]


def test_seed_set_has_the_promised_coverage() -> None:
    assert len(_tagged("factual")) >= 25
    assert len([q for q in ITEMS if not q["answerable"]]) >= 6
    assert len([q for q in ITEMS if q.get("history")]) >= 3


def test_factual_questions_answered_with_cited_fact(seed_assistant: Assistant) -> None:
    """At least 25 factual questions get the right fact and a citation whose quote holds it
    (the acceptance bar); the eval gate checks overall accuracy >= 0.9 separately."""
    misses = []
    for item in _tagged("factual"):
        answer = seed_assistant.ask(item["question"], item.get("history") or [])
        golds = [_norm(g) for g in item["answers"]]
        ok = (
            not answer.refused
            and any(g in _norm(answer.text) for g in golds)
            and any(any(g in _norm(c.quote) for g in golds) for c in answer.citations)
        )
        if not ok:
            misses.append(f"{item['id']}: {answer.text[:120]}")
    answered = len(_tagged("factual")) - len(misses)
    assert answered >= 25, misses
    assert len(misses) <= 3, misses  # today: fact-31 only; more means a regression


def test_unanswerable_questions_refused(seed_assistant: Assistant) -> None:
    """At least 6 off-topic or near-miss questions are refused, without citations."""
    answered = []
    items = [q for q in ITEMS if not q["answerable"]]
    for item in items:
        answer = seed_assistant.ask(item["question"], item.get("history") or [])
        if answer.refused:
            assert not answer.citations
        else:
            answered.append(f"{item['id']}: {answer.text[:120]}")
    assert len(items) - len(answered) >= 6, answered
    assert len(answered) <= 2, answered  # today: two near-misses (unans-06, unans-07)


@pytest.mark.parametrize("item", [q for q in ITEMS if q.get("history")], ids=lambda q: q["id"])
def test_follow_up_resolved_from_history(seed_assistant: Assistant, item: dict) -> None:  # type: ignore[type-arg]
    answer = seed_assistant.ask(item["question"], item["history"])
    if item["answerable"]:
        assert any(_norm(g) in _norm(answer.text) for g in item["answers"]), answer.text
    else:
        assert answer.refused


def test_every_citation_quotes_its_document_exactly(seed_assistant: Assistant) -> None:
    checked = 0
    for item in ITEMS:
        answer = seed_assistant.ask(item["question"], item.get("history") or [])
        for c in answer.citations + answer.related:
            doc = seed_assistant.document(c.source)
            assert doc is not None
            assert doc.text[c.start : c.end] == c.quote
            checked += 1
    assert checked >= 25


def test_answers_show_article_and_date(seed_assistant: Assistant) -> None:
    answer = seed_assistant.ask("What salary are poor Nepalis offered?")
    c = answer.citations[0]
    assert c.date == "2024-02-28" and c.title and c.title.startswith("Ukraine Foreign Fighters")


@pytest.mark.parametrize("question", ["", "   \n\t ", "\x00\x07\x1b"])
def test_empty_questions_get_a_message(seed_assistant: Assistant, question: str) -> None:
    answer = seed_assistant.ask(question)
    assert answer.refused and answer.notice and "question" in answer.notice


def test_overlong_question_names_the_limit(seed_index: Settings, real_embeddings) -> None:  # type: ignore[no-untyped-def]
    assistant = Assistant(seed_index.model_copy(update={"max_question_chars": 50}),
                          embeddings=real_embeddings)  # fmt: skip
    answer = assistant.ask("Why " * 100)
    assert answer.refused and "ASKFRONT_MAX_QUESTION_CHARS" in (answer.notice or "")


def test_streaming_yields_text_then_the_answer(seed_assistant: Assistant) -> None:
    events = list(seed_assistant.ask_stream("Who is Ramchandra Khadka?"))
    *deltas, final = events
    assert deltas and all(isinstance(d, str) for d in deltas)
    assert "".join(deltas).strip() == final.text.strip()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "askfront.cli", *args], capture_output=True, text=True
    )


def test_cli_ask_json_structure(seed_index: Settings, tmp_path: Path) -> None:
    history = tmp_path / "history.json"
    history.write_text(json.dumps([
        {"role": "user", "content": "How many Nepalis have gone to fight for Russia?"},
        {"role": "assistant", "content": "More than 200 Nepalis have gone to Ukraine."},
    ]))  # fmt: skip
    proc = _cli("ask", "And how much are they paid?", "--index", str(seed_index.index_dir),
                "--history", str(history), "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {"answer", "refused", "citations", "timings_ms"} <= set(data)
    assert isinstance(data["answer"], str) and isinstance(data["refused"], bool)
    assert "$2,000" in data["answer"]
    for c in data["citations"]:
        assert set(c) == {"n", "source", "title", "date", "start", "end", "quote", "score"}
        assert isinstance(c["start"], int) and isinstance(c["score"], float)
    assert all(isinstance(v, float) for v in data["timings_ms"].values())
    assert "total_ms" in data["timings_ms"]


def test_cli_ask_readable_output(seed_index: Settings) -> None:
    proc = _cli("ask", "Who is the Kremlin spokesman?", "--index", str(seed_index.index_dir))
    assert proc.returncode == 0, proc.stderr
    assert "Dmitry Peskov" in proc.stdout and "[1]" in proc.stdout
    assert "Sources:" in proc.stdout and "2024-02-28" in proc.stdout


def test_cli_ask_without_index_is_actionable(tmp_path: Path) -> None:
    proc = _cli("ask", "Anything?", "--index", str(tmp_path / "none"))
    assert proc.returncode == 1
    assert "askfront index" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_bad_history_file(seed_index: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "h.json"
    bad.write_text('{"role": "user"}')
    proc = _cli("ask", "Q?", "--index", str(seed_index.index_dir), "--history", str(bad))
    assert proc.returncode == 1 and "list of" in proc.stderr
