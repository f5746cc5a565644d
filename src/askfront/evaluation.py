"""Evaluate answers against a test set: metrics, a runner, baselines and thresholds.

A test set is JSONL, one question per line:
    {"id", "question", "answers": [acceptable answers], "answerable": bool,
     "sources": [corpus-relative paths], "evidence": "supporting text",
     "history": [{"role", "content"}], "tags": [labels for the report]}
(sources, evidence, history and tags are optional; unknown keys are ignored).

Metric definitions. Per-question values are averaged over the questions where they are
defined (None = undefined, never counted as 0):

* accuracy: 1 if any SQuAD-normalized gold answer occurs in the normalized answer as a
  whole-word sequence ("14" does not match "140"), else 0. Answerable questions only; a
  refused answer scores 0. [n] citation markers are removed from answers before scoring.
* f1: SQuAD token F1, the best over the gold answers. Answerable questions only; refused = 0.
* pass_rate: share of all questions that passed (answerable: not refused and accurate;
  unanswerable: refused).
* Retrieval (hit_at_1, hit_at_5, recall_at_5, mrr, ndcg_at_10) is computed over the chunk
  ranking the assistant returned (`Answer.passages`). Gold items are the distinct gold
  `sources`; when there are none, the `evidence` is the single gold item and a chunk matches
  it if its normalized text contains the normalized evidence or holds >= 80% of its content
  words. A question with neither is left out. The rank of a question is the position of its
  first matching chunk; hit@k = rank <= k; MRR = 1/rank (0 when never found); recall@k =
  gold items found in the top k chunks / gold items. nDCG@10 uses binary gain, credited once
  per gold item at the chunk position where it first appears (a second chunk of the same
  source earns nothing but takes a position); ideal DCG puts min(G, 10) gold items first.
* evidence_hit_at_5, evidence_mrr: the same, at passage level, for every question with
  `evidence` (whether or not it has sources): on a corpus of a few articles, source-level
  retrieval is trivially right and these are the informative numbers.
* citation_precision: share of an answer's citations whose quote contains a gold answer or
  overlaps the evidence (>= 80% of the shorter side's content words shared). Undefined
  without citations, or with neither gold answers nor evidence.
* groundedness: share of answer sentences marked supported. Undefined for refusals and for
  answers without sentences.
* Refusal, with "refused" as the positive prediction for unanswerable questions:
  refusal_precision = TP/(TP+FP) (None without refusals), refusal_recall = TP/(TP+FN)
  (None without unanswerable questions), refusal_f1 = 2TP/(2TP+FP+FN) (None only when there
  are neither refusals nor unanswerable questions), false_refusal_rate = FP/(FP+TN) (None
  without answerable questions).
* latency_<stage>_p50_ms / _p95_ms for every stage in `Answer.timings` (a "_ms" suffix is
  dropped from the stage name) plus "wall", the time `ask` took as measured here. Percentiles
  interpolate linearly between the closest ranks (numpy's default method).
* llm_judge_faithfulness / llm_judge_answer_relevancy: optional RAGAS-style scores from a
  judge chat model (see `judge_faithfulness`, `judge_answer_relevancy`).
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from askfront.citations import strip_markers
from askfront.errors import ConfigError, LLMUnavailableError
from askfront.textutil import content_terms, normalize_text
from askfront.types import Answer, AnswerSentence, Turn

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel

    from askfront.assistant import Assistant, Progress

logger = logging.getLogger(__name__)

RESULT_FORMAT = "askfront-eval/1"
EVIDENCE_OVERLAP = 0.8  # share of content words that makes a passage "hold" the evidence
F1_TOLERANCE = 0.1  # F1 change that `compare` reports when pass/fail did not change
NDCG_K = 10


class MetricInfo(NamedTuple):
    description: str
    higher_is_better: bool = True


# The fixed metrics, in display order. Latency names are added per stage found.
METRICS: dict[str, MetricInfo] = {
    "accuracy": MetricInfo("a gold answer occurs in the answer (answerable questions)"),
    "f1": MetricInfo("SQuAD token F1 against the best gold answer (answerable questions)"),
    "pass_rate": MetricInfo("questions passed: accurate answer, or refusal when unanswerable"),
    "hit_at_1": MetricInfo("a gold source/evidence is the first retrieved chunk"),
    "hit_at_5": MetricInfo("a gold source/evidence is in the top 5 chunks"),
    "recall_at_5": MetricInfo("share of gold sources found in the top 5 chunks"),
    "mrr": MetricInfo("mean reciprocal rank of the first gold chunk"),
    "ndcg_at_10": MetricInfo("nDCG@10 with binary relevance, once per gold source"),
    "evidence_hit_at_5": MetricInfo("a top-5 chunk holds the evidence passage"),
    "evidence_mrr": MetricInfo("mean reciprocal rank of the first chunk holding the evidence"),
    "citation_precision": MetricInfo("citations whose quote holds a gold answer or the evidence"),
    "groundedness": MetricInfo("answer sentences marked supported by their citations"),
    "refusal_precision": MetricInfo("refusals that were for unanswerable questions"),
    "refusal_recall": MetricInfo("unanswerable questions that were refused"),
    "refusal_f1": MetricInfo("F1 of refusing exactly the unanswerable questions"),
    "false_refusal_rate": MetricInfo("answerable questions that were refused", False),
}
JUDGE_METRICS: dict[str, MetricInfo] = {
    "llm_judge_faithfulness": MetricInfo("LLM judge: answer statements supported by the passages"),
    "llm_judge_answer_relevancy": MetricInfo(
        "LLM judge: how well the answer addresses the question"
    ),
}
RETRIEVAL_METRICS = ("hit_at_1", "hit_at_5", "recall_at_5", "mrr", "ndcg_at_10")
# Per-question scores averaged into the aggregate metrics of the same name.
EVIDENCE_METRICS = ("evidence_hit_at_5", "evidence_mrr")
_PER_QUESTION = (
    "accuracy",
    "f1",
    *RETRIEVAL_METRICS,
    *EVIDENCE_METRICS,
    "citation_precision",
    "groundedness",
)


def metric_info(name: str) -> MetricInfo:
    """Description and direction of a metric name, including latency_* names."""
    if name in METRICS:
        return METRICS[name]
    if name in JUDGE_METRICS:
        return JUDGE_METRICS[name]
    if name.startswith("latency_"):
        return MetricInfo("latency in milliseconds", higher_is_better=False)
    raise KeyError(name)


# --------------------------------------------------------------------------------------
# Test sets
# --------------------------------------------------------------------------------------
class HistoryTurn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["user", "assistant"]
    content: str


class EvalItem(BaseModel):
    """One test-set question. (Not called TestItem: pytest would try to collect it.)"""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    answers: list[str]
    answerable: bool = True
    sources: list[str] = Field(default_factory=list)
    evidence: str | None = None
    history: list[HistoryTurn] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @model_validator(mode="after")
    def _answers_match_answerable(self) -> EvalItem:
        if self.answerable and not any(normalize_answer(a) for a in self.answers):
            raise ValueError(
                "an answerable question needs at least one non-empty gold answer in 'answers'"
            )
        if not self.answerable and self.answers:
            raise ValueError("an unanswerable question (answerable: false) must have answers: []")
        return self

    def turns(self) -> list[Turn]:
        return [{"role": t.role, "content": t.content} for t in self.history]


def load_testset(path: Path | str) -> list[EvalItem]:
    """Read and validate a JSONL test set.

    Raises:
        ConfigError: if the file is missing, empty, or has invalid lines (each named by number).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"Test set {path} does not exist. Pass the path of a JSONL file."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Test set {path} cannot be read as UTF-8 text: {exc}") from None
    items: list[EvalItem] = []
    problems: list[str] = []
    first_line: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {lineno}: not valid JSON ({exc.msg}, column {exc.colno})")
            continue
        if not isinstance(data, dict):
            problems.append(f"line {lineno}: expected a JSON object, got {type(data).__name__}")
            continue
        try:
            item = EvalItem.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"]) or "question"
                problems.append(f"line {lineno}: {where}: {err['msg']}")
            continue
        if item.id in first_line:
            problems.append(
                f"line {lineno}: id {item.id!r} is already used on line {first_line[item.id]}"
            )
            continue
        first_line[item.id] = lineno
        items.append(item)
    if problems:
        shown = "\n  ".join(problems[:10])
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise ConfigError(f"Test set {path} has {len(problems)} problem(s):\n  {shown}{more}")
    if not items:
        raise ConfigError(f"Test set {path} has no questions (one JSON object per line).")
    return items


# --------------------------------------------------------------------------------------
# Answer metrics
# --------------------------------------------------------------------------------------
# Hand-written rather than a library: the official SQuAD script is not a package, and
# HF `evaluate` fetches metric code from the Hub at run time (askfront is offline).
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = re.compile(r"[^\w\s]|_")  # SQuAD's punctuation set, extended to Unicode
# Possessive 's goes first, so whole-word matching finds "Havana" in "Havana's".
_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")


def normalize_answer(text: str) -> str:
    """SQuAD normalization: lowercase, drop punctuation and a/an/the, fold whitespace.

    Also drops possessive 's (SQuAD keeps "havanas"), because matching is by whole words.
    """
    text = _POSSESSIVE.sub("", normalize_text(text).lower())
    text = _PUNCT.sub("", text)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _contains(haystack: str, needle: str) -> bool:
    """Whole-word containment of normalized strings."""
    return bool(needle) and f" {needle} " in f" {haystack} "


def _gold_norms(golds: Iterable[str]) -> list[str]:
    return [g for g in (normalize_answer(x) for x in golds) if g]


def answer_accuracy(answer_text: str, golds: Sequence[str]) -> float | None:
    """1.0 if any normalized gold occurs in the normalized answer, else 0.0; None without golds."""
    norms = _gold_norms(golds)
    if not norms:
        return None
    answer = normalize_answer(answer_text)
    return 1.0 if any(_contains(answer, g) for g in norms) else 0.0


def _f1(prediction: list[str], gold: list[str]) -> float:
    if not prediction or not gold:
        return float(prediction == gold)
    same = sum((Counter(prediction) & Counter(gold)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(prediction), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def token_f1(answer_text: str, golds: Sequence[str]) -> float | None:
    """SQuAD token F1, the maximum over the golds; None without golds."""
    norms = _gold_norms(golds)
    if not norms:
        return None
    tokens = normalize_answer(answer_text).split()
    return max(_f1(tokens, g.split()) for g in norms)


# --------------------------------------------------------------------------------------
# Retrieval metrics
# --------------------------------------------------------------------------------------
def _norm_path(path: str) -> str:
    return path.strip().replace("\\", "/").removeprefix("./")


def _shared_share(a: Sequence[str], b: Sequence[str], *, of: Literal["a", "min"]) -> float:
    if not a or not b:
        return 0.0
    shared = sum((Counter(a) & Counter(b)).values())
    return shared / (len(a) if of == "a" else min(len(a), len(b)))


def holds_evidence(text: str, evidence: str) -> bool:
    """A passage holds the evidence if it contains it, or >= 80% of its content words."""
    if _contains(normalize_answer(text), normalize_answer(evidence)):
        return True
    return _shared_share(content_terms(evidence), content_terms(text), of="a") >= EVIDENCE_OVERLAP


def overlaps_evidence(quote: str, evidence: str) -> bool:
    """Quote and evidence share >= 80% of the content words of the shorter of the two."""
    if _contains(normalize_answer(quote), normalize_answer(evidence)):
        return True
    return _shared_share(content_terms(quote), content_terms(evidence), of="min") >= (
        EVIDENCE_OVERLAP
    )


@dataclass(frozen=True)
class RetrievalScores:
    first_relevant_rank: int | None  # 1-based position in the chunk ranking
    hit_at_1: float
    hit_at_5: float
    recall_at_5: float
    mrr: float
    ndcg_at_10: float


def retrieval_metrics(
    ranked: Sequence[tuple[str, str]], sources: Sequence[str] = (), evidence: str | None = None
) -> RetrievalScores | None:
    """Score a chunk ranking [(source, text), ...] best first; None when nothing is gold."""
    gold = list(dict.fromkeys(_norm_path(s) for s in sources if s.strip()))
    labels: list[str | None]
    if gold:
        wanted = set(gold)
        labels = [p if (p := _norm_path(src)) in wanted else None for src, _ in ranked]
        n_gold = len(gold)
    elif evidence and normalize_answer(evidence):
        labels = ["evidence" if holds_evidence(text, evidence) else None for _, text in ranked]
        n_gold = 1
    else:
        return None

    first = next((i + 1 for i, label in enumerate(labels) if label is not None), None)

    def found(k: int) -> int:
        return len({label for label in labels[:k] if label is not None})

    seen: set[str] = set()
    dcg = 0.0
    for i, label in enumerate(labels[:NDCG_K]):
        if label is not None and label not in seen:
            seen.add(label)
            dcg += 1.0 / math.log2(i + 2)
    idcg = sum(1.0 / math.log2(i + 2) for i in range(min(n_gold, NDCG_K)))
    return RetrievalScores(
        first_relevant_rank=first,
        hit_at_1=float(first is not None and first <= 1),
        hit_at_5=float(first is not None and first <= 5),
        recall_at_5=found(5) / n_gold,
        mrr=1.0 / first if first else 0.0,
        ndcg_at_10=dcg / idcg,
    )


# --------------------------------------------------------------------------------------
# Citations, groundedness, refusal, latency
# --------------------------------------------------------------------------------------
def citation_precision(
    quotes: Sequence[str], golds: Sequence[str], evidence: str | None = None
) -> float | None:
    """Share of quotes holding a gold answer or overlapping the evidence."""
    norms = _gold_norms(golds)
    if not quotes or (not norms and not evidence):
        return None
    good = 0
    for quote in quotes:
        nq = normalize_answer(quote)
        if any(_contains(nq, g) for g in norms) or (
            evidence and overlaps_evidence(quote, evidence)
        ):
            good += 1
    return good / len(quotes)


def groundedness(sentences: Sequence[AnswerSentence]) -> float | None:
    """Share of answer sentences marked supported; None when there are none."""
    if not sentences:
        return None
    return sum(1 for s in sentences if s.supported) / len(sentences)


@dataclass(frozen=True)
class RefusalScores:
    precision: float | None
    recall: float | None
    f1: float | None
    false_refusal_rate: float | None
    tp: int
    fp: int
    fn: int
    tn: int


def refusal_metrics(outcomes: Iterable[tuple[bool, bool]]) -> RefusalScores:
    """Score (answerable, refused) pairs with "refused" as the positive prediction."""
    tp = fp = fn = tn = 0
    for answerable, refused in outcomes:
        if refused and not answerable:
            tp += 1
        elif refused:
            fp += 1
        elif not answerable:
            fn += 1
        else:
            tn += 1
    return RefusalScores(
        precision=tp / (tp + fp) if tp + fp else None,
        recall=tp / (tp + fn) if tp + fn else None,
        f1=2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else None,
        false_refusal_rate=fp / (fp + tn) if fp + tn else None,
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
    )


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile, linear interpolation between closest ranks; None when empty."""
    if not values:
        return None
    return float(np.percentile(np.asarray(values, dtype=float), q))


def latency_metrics(timings: Sequence[Mapping[str, float]]) -> dict[str, float | None]:
    """p50 and p95 per stage over the questions that report that stage."""
    stages: dict[str, list[float]] = {}
    for one in timings:
        for stage, ms in one.items():
            stages.setdefault(stage, []).append(float(ms))
    out: dict[str, float | None] = {}
    for stage in sorted(stages):
        name = stage.removesuffix("_ms")
        out[f"latency_{name}_p50_ms"] = percentile(stages[stage], 50)
        out[f"latency_{name}_p95_ms"] = percentile(stages[stage], 95)
    return out


def mean_defined(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not None; None if there are none."""
    defined = [v for v in values if v is not None]
    return sum(defined) / len(defined) if defined else None


# --------------------------------------------------------------------------------------
# Optional LLM judge (RAGAS-style)
# --------------------------------------------------------------------------------------
_FAITHFULNESS_PROMPT = """You check whether an answer is supported by the context.

Context:
{context}

Question: {question}
Answer: {answer}

Split the answer into short standalone statements. For each statement write one line:
SUPPORTED: <statement>     if the context states it
UNSUPPORTED: <statement>   otherwise
Write nothing else."""

_RELEVANCY_PROMPT = """Answer: {answer}

Write {n} different questions that this answer would answer, one per line, each starting
with "QUESTION:". Then write one line "NONCOMMITTAL: yes" if the answer is evasive or says it
does not know, or "NONCOMMITTAL: no" otherwise. Write nothing else."""

_LIST_PREFIX = r"^[\W\d]*"  # bullets and numbering ("- ", "2. ", "**") models like to add
_VERDICT = re.compile(_LIST_PREFIX + r"(UNSUPPORTED|SUPPORTED)\b", re.IGNORECASE)
_GEN_QUESTION = re.compile(_LIST_PREFIX + r"QUESTION\s*\d*\s*:\s*(.+)$", re.IGNORECASE)
_NONCOMMITTAL = re.compile(_LIST_PREFIX + r"NONCOMMITTAL\s*:\W*(yes|no)\b", re.IGNORECASE)


def _ask_judge(model: BaseChatModel, prompt: str) -> str:
    try:
        reply = model.invoke(prompt)
    except Exception as exc:  # any provider error: the judge is optional
        raise LLMUnavailableError(f"The judge model failed: {exc}") from exc
    content = reply.content
    if isinstance(content, str):
        return content
    return "".join(p if isinstance(p, str) else str(p.get("text", "")) for p in content)


def judge_faithfulness(
    model: BaseChatModel, question: str, answer: str, contexts: Sequence[str]
) -> float | None:
    """Share of the answer's statements the judge finds supported by `contexts`.

    None when the judge gives no verdict lines. Raises LLMUnavailableError if the model fails.
    """
    context = "\n\n".join(f"[{i}] {c}" for i, c in enumerate(contexts, start=1)) or "(none)"
    reply = _ask_judge(
        model, _FAITHFULNESS_PROMPT.format(context=context, question=question, answer=answer)
    )
    verdicts = [m.group(1).upper() for line in reply.splitlines() if (m := _VERDICT.match(line))]
    if not verdicts:
        logger.warning("Judge gave no SUPPORTED/UNSUPPORTED lines: %.200r", reply)
        return None
    return verdicts.count("SUPPORTED") / len(verdicts)


def judge_answer_relevancy(
    model: BaseChatModel, question: str, answer: str, embeddings: Embeddings, n: int = 3
) -> float | None:
    """RAGAS answer relevancy: mean cosine similarity between the question and questions the
    judge generates from the answer, floored at 0; 0 if the judge calls the answer
    noncommittal. None when the judge generates no questions."""
    reply = _ask_judge(model, _RELEVANCY_PROMPT.format(answer=answer, n=n))
    generated: list[str] = []
    noncommittal = False
    for line in reply.splitlines():
        if m := _GEN_QUESTION.match(line):
            generated.append(m.group(1).strip())
        elif m := _NONCOMMITTAL.match(line):
            noncommittal = m.group(1).lower() == "yes"
    if noncommittal:
        return 0.0
    if not generated:
        logger.warning("Judge generated no QUESTION lines: %.200r", reply)
        return None
    target = np.asarray(embeddings.embed_query(question), dtype=float)
    others = np.asarray(embeddings.embed_documents(generated), dtype=float)
    norms = np.linalg.norm(others, axis=1) * np.linalg.norm(target)
    cosines = (others @ target) / np.where(norms == 0, 1.0, norms)
    return max(0.0, float(cosines.mean()))


# --------------------------------------------------------------------------------------
# Per-question records and the result
# --------------------------------------------------------------------------------------
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
    if item.answerable:
        passed = not answer.refused and scores["accuracy"] == 1.0
    else:
        passed = answer.refused
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
        history=[t.model_dump() for t in item.history],
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
    for name in _PER_QUESTION:
        metrics[name] = mean_defined(r.scores.get(name) for r in records)
    metrics["pass_rate"] = sum(r.passed for r in records) / len(records) if records else None
    refusal = refusal_metrics((r.answerable, r.refused) for r in records)
    metrics["refusal_precision"] = refusal.precision
    metrics["refusal_recall"] = refusal.recall
    metrics["refusal_f1"] = refusal.f1
    metrics["false_refusal_rate"] = refusal.false_refusal_rate
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
        answer = assistant.ask(item.question, item.turns())
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


# --------------------------------------------------------------------------------------
# Baselines and thresholds
# --------------------------------------------------------------------------------------
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


_THRESHOLD = re.compile(r"^\s*([A-Za-z0-9_]+)\s*(>=|<=|=)\s*([-+]?\d+(?:\.\d*)?|[-+]?\.\d+)\s*$")


def check_thresholds(metrics: Mapping[str, float | None], specs: Sequence[str]) -> list[str]:
    """Check "METRIC=VALUE" thresholds; returns one message per failed threshold.

    "=" means at least VALUE for higher-is-better metrics and at most VALUE for
    false_refusal_rate and latency_*; ">=" and "<=" state the direction explicitly.
    A metric that is undefined for this test set fails its threshold.

    Raises:
        ConfigError: for a malformed spec or an unknown metric name (listing the valid ones).
    """
    valid = [*METRICS, *JUDGE_METRICS, *(n for n in metrics if n.startswith("latency_"))]
    failures: list[str] = []
    for spec in specs:
        m = _THRESHOLD.match(spec)
        if not m:
            raise ConfigError(
                f"Threshold {spec!r} is not METRIC=VALUE (e.g. accuracy=0.9, "
                "latency_total_p95_ms<=2000)."
            )
        name, op, raw = m.group(1), m.group(2), m.group(3)
        if name not in valid:
            raise ConfigError(f"Unknown metric {name!r} in {spec!r}. Valid: {', '.join(valid)}.")
        limit = float(raw)
        at_least = op == ">=" or (op == "=" and metric_info(name).higher_is_better)
        value = metrics.get(name)
        if value is None:
            failures.append(f"{name} is undefined for this test set, so {spec!r} cannot hold")
        elif at_least and value < limit:
            failures.append(f"{name} = {value:.4g} is below the required {limit:g}")
        elif not at_least and value > limit:
            failures.append(f"{name} = {value:.4g} is above the allowed {limit:g}")
    return failures
