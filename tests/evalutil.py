"""Shared by the evaluation tests: a canned Assistant, the seed test set and DCG gains."""

from __future__ import annotations

import math
from pathlib import Path

from askfront.core.types import Answer, AnswerSentence, Chunk, Citation, Passage
from askfront.evaluation.testset import EvalItem
from fakes import CannedAssistant

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "tests" / "data" / "seed_testset.jsonl"

INV_LOG2_3 = 1 / math.log2(3)  # DCG gain at position 2 = 0.63093
INV_LOG2_5 = 1 / math.log2(5)  # position 4 = 0.43068


def passage(source: str, text: str, rank: int = 1) -> Passage:
    chunk = Chunk(
        id=f"{source}#{rank}", source=source, index=rank, text=text, start=0, end=len(text)
    )
    return Passage(chunk=chunk, rank=rank)


def citation(n: int, source: str, quote: str) -> Citation:
    return Citation(n, source, None, None, 0, len(quote), quote, 0.5)


FICO_EVIDENCE = (
    "Slovak Prime Minister Robert Fico suggested European countries were prepared to send troops."
)


def canned_case() -> tuple[list[EvalItem], CannedAssistant]:
    """Four questions whose metrics are worked out by hand in test_eval_runner.py.

    q1 answerable, correct, gold source found at rank 2, evidence passage not retrieved.
    q2 answerable follow-up, wrong answer, no sources: evidence found at rank 1.
    q3 unanswerable, refused (passes).
    q4 unanswerable, answered anyway (fails).
    """
    items = [
        EvalItem(
            id="q1",
            question="How many Nepalis died?",
            answers=["14"],
            sources=["a.md"],
            evidence="At least 14 have been killed, say officials in Kathmandu.",
        ),
        EvalItem(
            id="q2",
            question="And who suggested sending troops?",
            answers=["Robert Fico"],
            evidence=FICO_EVIDENCE,
            history=[
                {"role": "user", "content": "Who spoke in Paris?"},
                {"role": "assistant", "content": "Emmanuel Macron. [1]"},
            ],  # type: ignore[list-item]
        ),
        EvalItem(
            id="q3", question="What is the capital of Australia?", answers=[], answerable=False
        ),
        EvalItem(id="q4", question="Where is Canberra?", answers=[], answerable=False),
    ]
    answers = {
        "How many Nepalis died?": Answer(
            text="At least 14 have been killed. [1]",
            citations=[citation(1, "a.md", "at least 14 have been killed")],
            sentences=[AnswerSentence("At least 14 have been killed.", [1], supported=True)],
            passages=[passage("b.md", "Unrelated.", 1), passage("a.md", "Casualty figures.", 2)],
            timings={"retrieve_ms": 10.0, "answer_ms": 5.0},
        ),
        "And who suggested sending troops?": Answer(
            text="Emmanuel Macron said so. [1] He spoke in Paris. [1]",
            citations=[citation(1, "a.md", "Emmanuel Macron said so.")],
            sentences=[
                AnswerSentence("Emmanuel Macron said so.", [1], supported=True),
                AnswerSentence("He spoke in Paris.", [1], supported=False),
            ],
            passages=[passage("a.md", f"Earlier, {FICO_EVIDENCE} Then more.", 1)],
            timings={"retrieve_ms": 30.0},
        ),
        "What is the capital of Australia?": Answer(
            text="The articles don't say.", refused=True, passages=[passage("a.md", "x", 1)]
        ),
        "Where is Canberra?": Answer(
            text="Canberra is in Australia. [1]",
            citations=[citation(1, "a.md", "Canberra")],
            sentences=[AnswerSentence("Canberra is in Australia.", [1], supported=True)],
        ),
    }
    return items, CannedAssistant(answers)
