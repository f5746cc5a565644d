"""The one API that the CLI, the web chat and the evaluation all call."""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack, cast

from askfront.config import Settings
from askfront.errors import AskfrontError, IndexNotFoundError
from askfront.types import Answer, Document, DocumentRecord, IndexReport, Turn

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from askfront.answering.base import Answerer
    from askfront.answering.extractive.hops import SecondHop
    from askfront.answering.registry import BackendOptions
    from askfront.grounding.nli import EntailmentScorer
    from askfront.retrieval import Retriever, SearchOptions, SearchResult

logger = logging.getLogger(__name__)


class AskOptions(TypedDict, total=False):
    """Per-question overrides of the settings (the web chat's settings panel)."""

    top_k: int | None
    hybrid: bool | None
    sources: Sequence[str] | None
    date_from: str | None
    date_to: str | None
    mode: str | None


# Progress callback: (stage description, done, total).
Progress = Callable[[str, int, int], None]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
EMPTY_QUESTION = "Please type a question about the articles."
_SWAP_RETRIES = 2  # searches redone when full rebuilds switch builds mid-search


class Assistant:
    """Answers questions about the indexed articles, and keeps the index in sync.

    Thread-safe for concurrent `ask` calls; `reindex` swaps the retriever only once the
    new index is complete, so answers keep coming from the previous one meanwhile.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embeddings: Embeddings | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self._embeddings = embeddings
        self._retriever: Retriever | None = None
        self._lock = threading.RLock()
        self._answerers: dict[str, Answerer] = {}

    # -- components (loaded lazily: `askfront ask --help` must stay instant) --------------
    @property
    def embeddings(self) -> Embeddings:
        if self._embeddings is None:
            from askfront.embeddings import get_embeddings

            self._embeddings = get_embeddings(self.settings)
        return self._embeddings

    def retriever(self) -> Retriever:
        """The retriever for the active build, reloaded when another process rebuilt it.

        Raises:
            IndexNotFoundError: if there is no index yet.
        """
        from askfront.retrieval import Retriever
        from askfront.store import active_build

        build = active_build(self.settings)
        generation = build.state().get("generation")
        with self._lock:
            current = self._retriever
            if (
                current is None
                or current.build.name != build.name
                or current.generation != generation
            ):
                current = Retriever(self.settings, build, self.embeddings)
                self._retriever = current
            return current

    def answerer(self, mode: str | None = None) -> Answerer:
        """The answer backend for `mode` (default: the `llm` setting), built once."""
        mode = mode or self.settings.llm
        with self._lock:
            if mode not in self._answerers:
                from askfront.answering.extractive import ExtractiveAnswerer

                extractive = self._answerers.get("extractive") or ExtractiveAnswerer(
                    max_sentences=self.settings.max_answer_sentences
                )
                self._answerers["extractive"] = extractive
                if mode != "extractive":
                    from askfront.answering.registry import get_answerer

                    self._answerers[mode] = get_answerer(
                        mode,
                        backend_options(self.settings),
                        extractive=extractive,
                        embeddings=self.embeddings,
                    )
            return self._answerers[mode]

    def modes(self) -> list[str]:
        """Answer modes the UI may offer: "extractive" plus the configured LLM backend."""
        modes = ["extractive"]
        if self.settings.llm != "extractive":
            modes.append(self.settings.llm)
        return modes

    # -- asking ---------------------------------------------------------------------------
    def ask(
        self, question: str, history: Sequence[Turn] = (), **options: Unpack[AskOptions]
    ) -> Answer:
        """Answer `question` in the context of `history` (options as in `ask_stream`).

        Bad questions (empty, too long) give a refused Answer with a notice, not an error.

        Raises:
            IndexNotFoundError: if no index has been built.
            StoreUnavailableError: if the vector store cannot be reached.
        """
        *_, final = self.ask_stream(question, history, **options)
        assert isinstance(final, Answer), "ask_stream ends with the Answer"
        return final

    def ask_stream(
        self,
        question: str,
        history: Sequence[Turn] = (),
        *,
        top_k: int | None = None,
        hybrid: bool | None = None,
        sources: Sequence[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        mode: str | None = None,
    ) -> Iterator[str | Answer]:
        """Like ask(), but yields text deltas as they come, then the final Answer last."""
        from askfront.retrieval import SearchOptions

        started = time.perf_counter()
        question = _CONTROL.sub(" ", question or "").strip()
        problem = self._check_question(question)
        if problem:
            yield problem
            return
        history = _clean_history(history)
        answerer = self.answerer(mode)
        timings: dict[str, float] = {}

        t = time.perf_counter()
        query = self._standalone(question, history, answerer)
        if history:
            timings["condense_ms"] = _ms(t)
        options = SearchOptions(
            top_k=top_k or self.settings.top_k,
            hybrid=self.settings.hybrid if hybrid is None else hybrid,
            mmr=self.settings.mmr,
            sources=sources,
            date_from=date_from,
            date_to=date_to,
        )
        t = time.perf_counter()
        result = self._search(query, options)
        timings.update(result.timings)
        timings["retrieve_ms"] = _ms(t)
        if getattr(answerer, "wants_second_hop", False):
            t = time.perf_counter()
            result = self._second_hop(
                cast("SecondHop", answerer), question, history, result, options
            )
            timings["hop_ms"] = _ms(t)

        t = time.perf_counter()
        final: Answer | None = None
        # The answerer reads the follow-up itself; it gets the standalone query when an LLM
        # rewrote it, so both backends see what retrieval saw.
        asked = query if answerer.generative else question
        for event in answerer.stream(asked, result.passages, history):
            if isinstance(event, Answer):
                final = event
            else:
                yield event
        assert final is not None, "answerers end their stream with an Answer"
        timings["answer_ms"] = _ms(t)
        timings["total_ms"] = _ms(started)
        final.timings = {**timings, **final.timings}
        final.query = query
        final.passages = result.passages
        if result.notice:
            final.notice = " ".join(filter(None, [result.notice, final.notice]))
        yield final

    def _search(self, query: str, options: SearchOptions) -> SearchResult:
        """Search the active build. A full rebuild that switches builds mid-search deletes
        the build being searched (its vectors, then its files), which would fail the search
        or quietly degrade it; then the search runs again on the new build."""
        for attempt in range(_SWAP_RETRIES + 1):
            seen = _active_name(self.settings)
            try:
                result = self.retriever().search(query, options)
            except Exception:
                if attempt < _SWAP_RETRIES and _active_name(self.settings) != seen:
                    continue
                raise
            if attempt < _SWAP_RETRIES and _active_name(self.settings) != seen:
                logger.info("The index switched builds during a search; searching again")
                continue
            return result
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _second_hop(
        self,
        answerer: SecondHop,
        question: str,
        history: Sequence[Turn],
        first: SearchResult,
        options: SearchOptions,
    ) -> SearchResult:
        """The searches the answerer asks for after reading the first hop's passages (a
        name the question does not have, each of two compared names), their new passages
        appended after the first hop's: its ranking, which evaluation scores, stays."""
        passages = list(first.passages)
        seen = {p.chunk.id for p in passages}
        notice = first.notice
        for query in answerer.hop_queries(question, first.passages, history):
            found = self._search(query, options)
            notice = notice or found.notice
            for p in found.passages:
                if p.chunk.id not in seen:
                    seen.add(p.chunk.id)
                    p.rank = len(passages) + 1
                    passages.append(p)
        return dataclasses.replace(first, passages=passages, notice=notice)

    def _check_question(self, question: str) -> Answer | None:
        limit = self.settings.max_question_chars
        if not question:
            return Answer(text=EMPTY_QUESTION, refused=True, notice=EMPTY_QUESTION)
        if len(question) > limit:
            msg = (
                f"The question is {len(question):,} characters long; the limit is {limit:,}. "
                "Shorten it, or raise ASKFRONT_MAX_QUESTION_CHARS."
            )
            return Answer(text=msg, refused=True, notice=msg)
        return None

    def _standalone(self, question: str, history: Sequence[Turn], answerer: Answerer) -> str:
        """The query retrieval uses: an LLM condenses follow-ups; without one, a
        deterministic fallback carries the previous turn's key terms."""
        if not history:
            return question
        from askfront.answering.followup import resolve_query

        if answerer.generative:
            condensed = answerer.condense(question, history)
            if condensed != question:
                return condensed
        # No LLM, or it could not rewrite the question: carry the previous turn's key terms.
        return resolve_query(question, history)

    # -- documents and the index ----------------------------------------------------------
    def document(self, source: str) -> Document | None:
        """The normalized document (text that citation offsets point into), or None."""
        from askfront.store import active_build

        try:
            return active_build(self.settings).docstore.document(source)
        except IndexNotFoundError:
            return None

    def documents(self) -> list[DocumentRecord]:
        from askfront.store import active_build

        try:
            rows = active_build(self.settings).docstore.rows()
        except IndexNotFoundError:
            return []
        return [
            DocumentRecord(r.path, r.title, r.date, r.sha256, r.chunks, r.status, r.error)
            for r in rows
        ]

    def reindex(self, *, full: bool = False, progress: Progress | None = None) -> IndexReport:
        """Sync the index with corpus_dir; the new build serves once it is complete.

        Raises:
            IndexLockedError: if another rebuild is running.
        """
        from askfront.indexer import sync

        report = sync(self.settings, full=full, progress=progress, embeddings=self.embeddings)
        with self._lock:
            self._retriever = None  # the next ask loads the new build
        return report

    def delete_document(self, source: str) -> IndexReport:
        """Delete corpus_dir/source and drop its chunks from the index.

        Raises:
            AskfrontError: if `source` is not a file inside the corpus folder.
        """
        root = self.settings.corpus_dir.resolve()
        path = (root / source).resolve()
        if root not in path.parents or not path.is_file():
            raise AskfrontError(f"{source!r} is not a file in {self.settings.corpus_dir}/.")
        path.unlink()
        return self.reindex()


def backend_options(settings: Settings) -> BackendOptions:
    """The LLM backend options the settings ask for, with the optional NLI verifier.

    Raises:
        ConfigError: if ASKFRONT_NLI_MODEL names a folder that holds no NLI model.
    """
    from askfront.answering.registry import BackendOptions

    return BackendOptions(
        base_url=settings.llm_base_url,
        api_key=settings.llm_api_key,
        timeout=settings.llm_timeout,
        max_tokens=settings.llm_max_tokens,
        nli=_nli(settings.nli_model) if settings.nli_model else None,
    )


@functools.cache
def _nli(path: Path) -> EntailmentScorer:
    """One local NLI cross-encoder per folder and process (loading it takes seconds)."""
    from askfront.grounding.nli import CrossEncoderNLI

    return CrossEncoderNLI(path.expanduser().resolve())


def _active_name(settings: Settings) -> str | None:
    """The active build's name from manifest.json (None when there is no index)."""
    from askfront.store import MANIFEST, read_json

    return (read_json(settings.index_dir / MANIFEST) or {}).get("active")


def _clean_history(history: Sequence[Any]) -> list[Turn]:
    turns: list[Turn] = []
    for turn in history or ():
        if isinstance(turn, dict) and turn.get("role") in ("user", "assistant"):
            content = turn.get("content")
            if isinstance(content, str) and content.strip():
                turns.append({"role": turn["role"], "content": content})
    return turns


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0
