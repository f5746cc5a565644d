"""Evaluation metrics: their definitions, names, directions and threshold checks.

The one definition of every metric: `askfront eval`, the report and the benchmarks all
score with these functions.

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

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np

from askfront.core.text import content_terms, normalize_text
from askfront.core.types import AnswerSentence

EVIDENCE_OVERLAP = 0.8  # share of content words that makes a passage "hold" the evidence
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
    "median_answer_words": MetricInfo(
        "median length in words of the answers given (markers dropped, refusals left out)", False
    ),
}
JUDGE_METRICS: dict[str, MetricInfo] = {
    "llm_judge_faithfulness": MetricInfo("LLM judge: answer statements supported by the passages"),
    "llm_judge_answer_relevancy": MetricInfo(
        "LLM judge: how well the answer addresses the question"
    ),
}
# Questions about the collection (askfront.evaluation.collection scores them); reported
# only for test sets that ask them.
COLLECTION_METRICS: dict[str, MetricInfo] = {
    "list_recall": MetricInfo("list questions: share of the gold articles cited"),
    "list_precision": MetricInfo("list questions: share of the cited articles that are gold"),
    "count_correct": MetricInfo("count questions: the answer's first number is the gold count"),
    "latest_correct": MetricInfo("latest questions: the first citation is a newest gold article"),
    "first_correct": MetricInfo("first-mentioned questions: the answer gives the gold date"),
    "range_correct": MetricInfo("relative-date questions: the answer states the expected range"),
}
RETRIEVAL_METRICS = ("hit_at_1", "hit_at_5", "recall_at_5", "mrr", "ndcg_at_10")
# Per-question scores averaged into the aggregate metrics of the same name.
EVIDENCE_METRICS = ("evidence_hit_at_5", "evidence_mrr")
PER_QUESTION = (
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
    if name in COLLECTION_METRICS:
        return COLLECTION_METRICS[name]
    if name.startswith("latency_"):
        return MetricInfo("latency in milliseconds", higher_is_better=False)
    raise KeyError(name)


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


def passes(answer_text: str, refused: bool, golds: Sequence[str], answerable: bool) -> bool:
    """The pass/fail verdict of one answer: an answerable question passes when it is answered
    and a gold answer occurs in the answer text (markers already stripped); an unanswerable
    one passes when it is refused."""
    if not answerable:
        return refused
    return not refused and answer_accuracy(answer_text, golds) == 1.0


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


def answer_words(answer_text: str) -> int:
    """Length of an answer in words (whitespace-separated; [n] markers already stripped)."""
    return len(answer_text.split())


def median_answer_words(answer_texts: Iterable[str]) -> float | None:
    """Median `answer_words` of the answers given; None when there are none."""
    return percentile([float(answer_words(t)) for t in answer_texts], 50)


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
