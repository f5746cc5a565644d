"""Running an evaluation: ask every test-set question, score each answer, aggregate,
and compare against a baseline run."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from askfront.core.errors import ConfigError, LLMUnavailableError
from askfront.core.options import AskOptions
from askfront.core.types import Answer
from askfront.evaluation.collection import collection_scores
from askfront.evaluation.judge import judge_answer_relevancy, judge_faithfulness
from askfront.evaluation.metrics import (
    COLLECTION_METRICS,
    JUDGE_METRICS,
    METRICS,
    PER_QUESTION,
    RETRIEVAL_METRICS,
    answer_accuracy,
    citation_precision,
    groundedness,
    latency_metrics,
    mean_defined,
    median_answer_words,
    passes,
    refusal_metrics,
    retrieval_metrics,
    token_f1,
)
from askfront.evaluation.testset import EvalItem
from askfront.grounding.markers import strip_markers

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel

    from askfront.assistant import Assistant
    from askfront.core.types import Progress

logger = logging.getLogger(__name__)

RESULT_FORMAT = "askfront-eval/1"
F1_TOLERANCE = 0.1  # F1 change that `compare` reports when pass/fail did not change


@dataclass
class QuestionRecord:
    """One question's outcome; `scores` holds the per-question metric values (None = n/a)."""

    id: str
    question: str
    answerable: bool
    golds: list[str]
    answer: str
    refused: bool
    passed: bool
    scores: dict[str, float | None] = field(default_factory=dict)
    first_relevant_rank: int | None = None
    citations: list[dict[str, Any]] = field(default_factory=list)  # Citation.to_json()
    retrieved: list[str] = field(default_factory=list)  # sources of ranked chunks
    gold_sources: list[str] = field(default_factory=list)
    evidence: str | None = None
    history: list[dict[str, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    wall_ms: float = 0.0
    mode: str | None = None
    notice: str | None = None


def score_answer(item: EvalItem, answer: Answer, wall_ms: float = 0.0) -> QuestionRecord:
    """Score one Answer against its test-set item."""
    # A refusal answers nothing: its text ("The articles don't say ...") is not scored.
    # [n] markers are not part of the answer (and "[1]" must not match a gold "1").
    scored_text = "" if answer.refused else strip_markers(answer.text)
    scores: dict[str, float | None] = {
        "accuracy": answer_accuracy(scored_text, item.answers),
        "f1": token_f1(scored_text, item.answers),
    }
    ranked = [(p.source, p.chunk.text) for p in answer.passages]
    retrieval = retrieval_metrics(ranked, item.sources, item.evidence)
    for name in RETRIEVAL_METRICS:
        scores[name] = getattr(retrieval, name) if retrieval else None
    # Passage-level retrieval, whenever there is evidence: with few articles, finding the
    # right source is easy and finding the right passage is the real test.
    passage_level = retrieval_metrics(ranked, (), item.evidence)
    scores["evidence_hit_at_5"] = passage_level.hit_at_5 if passage_level else None
    scores["evidence_mrr"] = passage_level.mrr if passage_level else None
    quotes = [c.quote for c in answer.citations]
    scores["citation_precision"] = citation_precision(quotes, item.answers, item.evidence)
    scores["groundedness"] = None if answer.refused else groundedness(answer.sentences)
    collection = collection_scores(
        item.expects, item.expected_range, item.answers, item.sources, answer.text,
        [c.source for c in answer.citations], answer.refused,
    )  # fmt: skip
    scores.update({k: v for k, v in collection.items() if v is not None})
    passed = passes(scored_text, answer.refused, item.answers, item.answerable)
    return QuestionRecord(
        id=item.id,
        question=item.question,
        answerable=item.answerable,
        golds=list(item.answers),
        answer=answer.text,
        refused=answer.refused,
        passed=passed,
        scores=scores,
        first_relevant_rank=retrieval.first_relevant_rank if retrieval else None,
        citations=[c.to_json() for c in answer.citations],
        retrieved=[p.source for p in answer.passages],
        gold_sources=list(item.sources),
        evidence=item.evidence,
        history=[{"role": t["role"], "content": t["content"]} for t in item.history],
        tags=list(item.tags),
        timings=dict(answer.timings),
        wall_ms=wall_ms,
        mode=answer.mode,
        notice=answer.notice,
    )


def aggregate(
    records: Sequence[QuestionRecord],
) -> tuple[dict[str, float | None], dict[str, int], dict[str, dict[str, float | None]]]:
    """Aggregate metrics, counts and per-tag figures from per-question records."""
    metrics: dict[str, float | None] = dict.fromkeys(METRICS)
    for name in PER_QUESTION:
        metrics[name] = mean_defined(r.scores.get(name) for r in records)
    metrics["pass_rate"] = sum(r.passed for r in records) / len(records) if records else None
    metrics["median_answer_words"] = median_answer_words(
        strip_markers(r.answer) for r in records if not r.refused
    )
    refusal = refusal_metrics((r.answerable, r.refused) for r in records)
    metrics["refusal_precision"] = refusal.precision
    metrics["refusal_recall"] = refusal.recall
    metrics["refusal_f1"] = refusal.f1
    metrics["false_refusal_rate"] = refusal.false_refusal_rate
    for name in COLLECTION_METRICS:  # only for test sets that ask such questions
        if any(r.scores.get(name) is not None for r in records):
            metrics[name] = mean_defined(r.scores.get(name) for r in records)
    for name in JUDGE_METRICS:
        if any(name in r.scores for r in records):
            metrics[name] = mean_defined(r.scores.get(name) for r in records)
    metrics.update(latency_metrics([{**r.timings, "wall_ms": r.wall_ms} for r in records]))
    counts = {
        "questions": len(records),
        "answerable": sum(r.answerable for r in records),
        "unanswerable": sum(not r.answerable for r in records),
        "passed": sum(r.passed for r in records),
        "failed": sum(not r.passed for r in records),
        "refused": sum(r.refused for r in records),
        "retrieval_scored": sum(r.scores.get("mrr") is not None for r in records),
        "refusal_tp": refusal.tp,
        "refusal_fp": refusal.fp,
        "refusal_fn": refusal.fn,
        "refusal_tn": refusal.tn,
    }
    by_tag: dict[str, dict[str, float | None]] = {}
    for tag in sorted({t for r in records for t in r.tags}):
        tagged = [r for r in records if tag in r.tags]
        by_tag[tag] = {
            "questions": len(tagged),
            "pass_rate": sum(r.passed for r in tagged) / len(tagged),
            "accuracy": mean_defined(r.scores.get("accuracy") for r in tagged),
        }
    return metrics, counts, by_tag


@dataclass
class EvalResult:
    """Everything one evaluation run produced; `to_json`/`from_json` round-trip it."""

    records: list[QuestionRecord]
    metrics: dict[str, float | None]
    counts: dict[str, int]
    by_tag: dict[str, dict[str, float | None]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_records(
        cls, records: Sequence[QuestionRecord], meta: Mapping[str, Any] | None = None
    ) -> EvalResult:
        metrics, counts, by_tag = aggregate(records)
        return cls(list(records), metrics, counts, by_tag, dict(meta or {}))

    @property
    def failures(self) -> list[QuestionRecord]:
        return [r for r in self.records if not r.passed]

    def record(self, question_id: str) -> QuestionRecord | None:
        return next((r for r in self.records if r.id == question_id), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": RESULT_FORMAT,
            "meta": self.meta,
            "counts": self.counts,
            "metrics": self.metrics,
            "by_tag": self.by_tag,
            "questions": [asdict(r) for r in self.records],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EvalResult:
        """Rebuild a result from `to_json()` output.

        Raises:
            ConfigError: if `data` is not an askfront evaluation result.
        """
        if not isinstance(data, Mapping) or data.get("format") != RESULT_FORMAT:
            raise ConfigError(
                f"Not an askfront evaluation result (expected format {RESULT_FORMAT!r}). "
                "Use a file written by `askfront eval --json`."
            )
        known = {f.name for f in fields(QuestionRecord)}
        try:
            records = [
                QuestionRecord(**{k: v for k, v in q.items() if k in known})
                for q in data["questions"]
            ]
            return cls(
                records=records,
                metrics=dict(data["metrics"]),
                counts=dict(data["counts"]),
                by_tag=dict(data.get("by_tag") or {}),
                meta=dict(data.get("meta") or {}),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"The evaluation result is incomplete or damaged: {exc!r}") from None

    def save(self, path: Path | str) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, path: Path | str) -> EvalResult:
        """Read a result saved with `save` (e.g. a baseline).

        Raises:
            ConfigError: if the file is missing or not a saved evaluation result.
        """
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"Evaluation result {path} does not exist.") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{path} is not a readable evaluation result JSON: {exc}") from None
        try:
            return cls.from_json(data)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None


def run_eval(
    assistant: Assistant,
    testset: Sequence[EvalItem],
    *,
    progress: Progress | None = None,
    judge: BaseChatModel | None = None,
    judge_embeddings: Embeddings | None = None,
    meta: Mapping[str, Any] | None = None,
) -> EvalResult:
    """Ask every test-set question (with its history) and score the answers.

    With `judge`, also scores llm_judge_faithfulness and llm_judge_answer_relevancy; the
    relevancy embeddings default to the assistant's. Errors from `assistant.ask` (e.g. no
    index) propagate: they would hit every question alike.
    """
    started = datetime.now(UTC)
    records: list[QuestionRecord] = []
    judge_failures = 0
    total = len(testset)
    for i, item in enumerate(testset):
        if progress:
            progress("Evaluating", i, total)
        t = time.perf_counter()
        answer = assistant.ask(item.question, item.turns(), AskOptions(as_of=item.asked_on))
        wall_ms = (time.perf_counter() - t) * 1000.0
        record = score_answer(item, answer, wall_ms)
        if judge is not None:
            embeddings = judge_embeddings if judge_embeddings is not None else assistant.embeddings
            judged, failed = _judge_record(judge, embeddings, item, answer)
            record.scores.update(judged)
            judge_failures += failed
        records.append(record)
    if progress:
        progress("Evaluating", total, total)
    settings = assistant.settings
    info: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "seconds": round((datetime.now(UTC) - started).total_seconds(), 3),
        "llm": settings.llm,
        "top_k": settings.top_k,
        "hybrid": settings.hybrid,
        "embedding_profile": settings.embedding_profile,
        "judge": type(judge).__name__ if judge is not None else None,
        "judge_failures": judge_failures,
    }
    info.update(meta or {})
    return EvalResult.from_records(records, info)


def _judge_record(
    judge: BaseChatModel, embeddings: Embeddings, item: EvalItem, answer: Answer
) -> tuple[dict[str, float | None], int]:
    scores: dict[str, float | None] = dict.fromkeys(JUDGE_METRICS)
    if answer.refused:
        return scores, 0
    contexts = [p.chunk.text for p in answer.passages] or [c.quote for c in answer.citations]
    try:
        scores["llm_judge_faithfulness"] = judge_faithfulness(
            judge, item.question, answer.text, contexts
        )
        scores["llm_judge_answer_relevancy"] = judge_answer_relevancy(
            judge, item.question, answer.text, embeddings
        )
    except LLMUnavailableError as exc:
        logger.warning("Judge failed on question %s: %s", item.id, exc)
        return scores, 1
    return scores, 0


class Comparison(NamedTuple):
    regressed: list[str]
    improved: list[str]


def compare(
    current: EvalResult, baseline: EvalResult, *, f1_tolerance: float = F1_TOLERANCE
) -> Comparison:
    """Question ids that got worse / better than in `baseline`.

    A question regresses when it passed before and fails now, or, with pass/fail unchanged,
    when its F1 dropped by at least `f1_tolerance` (improves: the mirror image). Questions
    in only one of the two results are ignored.
    """
    before = {r.id: r for r in baseline.records}
    regressed: list[str] = []
    improved: list[str] = []
    for now in current.records:
        old = before.get(now.id)
        if old is None:
            continue
        if old.passed != now.passed:
            (improved if now.passed else regressed).append(now.id)
            continue
        f_old, f_now = old.scores.get("f1"), now.scores.get("f1")
        if f_old is not None and f_now is not None:
            if f_now <= f_old - f1_tolerance:
                regressed.append(now.id)
            elif f_now >= f_old + f1_tolerance:
                improved.append(now.id)
    return Comparison(regressed, improved)
