"""An optional LLM judge (RAGAS-style): faithfulness and answer relevancy of an answer."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from askfront.core.errors import LLMUnavailableError

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel

logger = logging.getLogger(__name__)


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
