"""The one API that the CLI, the web chat and the evaluation all call."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from askfront.core.config import Settings
from askfront.core.errors import IndexNotFoundError, QuestionError
from askfront.core.history import bound_history, history_notice
from askfront.core.options import AskOptions
from askfront.core.question import clean_question, question_problem
from askfront.core.types import (
    Answer,
    Document,
    DocumentRecord,
    IndexReport,
    Passage,
    Progress,
    Turn,
)
from askfront.retrieval.active import ActiveRetriever

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from askfront.answering.articles import KindAnswerer
    from askfront.answering.base import Answerer
    from askfront.answering.followup import Resolved
    from askfront.answering.kinds import Intent
    from askfront.answering.registry import BackendOptions
    from askfront.answering.router import KindRouter
    from askfront.grounding.nli import EntailmentScorer
    from askfront.indexing.embeddings import EmbeddingSpec
    from askfront.indexing.store import StoreSpec
    from askfront.indexing.sync import IndexSpec
    from askfront.retrieval.base import SearchOptions, SearchResult
    from askfront.retrieval.hybrid import Retriever
    from askfront.retrieval.mentions import MentionResult

logger = logging.getLogger(__name__)


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
        self.index = index_spec(self.settings)  # where the corpus and the index live
        self._embeddings = embeddings
        self._search = ActiveRetriever(
            self.index.store, lambda: self.embeddings, reranker_model=self.settings.reranker_model
        )
        self._lock = threading.RLock()
        self._answerers: dict[str, Answerer] = {}
        self._router: KindRouter | None = None

    # -- components (loaded lazily: `askfront ask --help` must stay instant) --------------
    @property
    def embeddings(self) -> Embeddings:
        if self._embeddings is None:
            from askfront.indexing.embeddings import get_embeddings

            self._embeddings = get_embeddings(self.index.embedding)
        return self._embeddings

    def retriever(self) -> Retriever:
        """The retriever for the active build, reloaded when another process rebuilt it.

        Raises:
            IndexNotFoundError: if there is no index yet.
        """
        return self._search.current()

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

    def route(
        self, question: str, history: Sequence[Turn], answerer: Answerer
    ) -> tuple[KindAnswerer, Intent] | None:
        """The answerer of the question's kind (askfront.answering.kinds), for questions
        about the collection and overviews; None for fact questions, which `answerer` gets."""
        with self._lock:
            if self._router is None:
                from askfront.answering.collection import CollectionAnswerer
                from askfront.answering.overview import OverviewAnswerer
                from askfront.answering.router import KindRouter

                max_sentences = self.settings.max_answer_sentences
                self._router = KindRouter(
                    [CollectionAnswerer(self), OverviewAnswerer(self, max_sentences=max_sentences)]
                )
        return self._router.route(question, history, answerer)

    def modes(self) -> list[str]:
        """Answer modes the UI may offer: "extractive" plus the configured LLM backend."""
        llm = self.settings.llm
        return ["extractive"] if llm == "extractive" else ["extractive", llm]

    # -- asking ---------------------------------------------------------------------------
    def ask(
        self, question: str, history: Sequence[Turn] = (), options: AskOptions | None = None
    ) -> Answer:
        """Answer `question` in the context of `history`, with per-question `options`.

        Bad questions (empty, too long) give a refused Answer with a notice, not an error.

        Raises:
            IndexNotFoundError: if no index has been built.
            StoreUnavailableError: if the vector store cannot be reached.
        """
        *_, final = self.ask_stream(question, history, options)
        assert isinstance(final, Answer), "ask_stream ends with the Answer"
        return final

    def ask_stream(
        self,
        question: str,
        history: Sequence[Turn] = (),
        options: AskOptions | None = None,
    ) -> Iterator[str | Answer]:
        """Like ask(), but yields text deltas as they come, then the final Answer last."""
        from askfront.answering.followup import resolve
        from askfront.retrieval.base import SearchResult

        asked_for, started = options or AskOptions(), time.perf_counter()
        problem = self._check_question(question)
        if problem:
            yield problem
            return
        question = clean_question(question)
        history, dropped = bound_history(
            history,
            max_turns=self.settings.max_history_turns,
            max_chars=self.settings.max_history_chars,
        )
        answerer = self.answerer(asked_for.mode)
        # Follow-ups are resolved once: retrieval gets the query, the answerer the words.
        resolved = resolve(question, history)
        routed = self.route(resolved, history, answerer)
        timings: dict[str, float] = {}

        search = self.search_options(asked_for)
        t = time.perf_counter()
        if routed is None:
            query = self._standalone(resolved, history, answerer)
        else:  # it searches for the question's topic, if any
            answerer, intent = routed
            answerer = answerer.at(asked_for.as_of)
            query, search = answerer.search_plan(intent, search)
        if history:
            timings["condense_ms"] = _ms(t)
        t = time.perf_counter()
        if query:
            result = self._search.search(query, search)
        else:
            self.retriever()  # no index: the IndexNotFoundError a search would raise
            result = SearchResult([])
        timings.update(result.timings)
        timings["retrieve_ms"] = _ms(t)
        if routed is None and answerer.wants_second_hop:
            t = time.perf_counter()
            queries = answerer.hop_queries(resolved, result.passages, history)
            result = self._search.extend(result, queries, search)
            timings["hop_ms"] = _ms(t)

        t = time.perf_counter()
        final: Answer | None = None
        # The answerer reads the follow-up itself; it gets the standalone query when an LLM
        # rewrote it, so both backends see what retrieval saw.
        asked = query if answerer.generative else resolved
        for event in answerer.stream(asked, result.passages, history):
            if isinstance(event, Answer):
                final = event
            else:
                yield event
        assert final is not None, "answerers end their stream with an Answer"
        timings["answer_ms"] = _ms(t)
        timings["total_ms"] = _ms(started)
        final.timings = {**timings, **final.timings}
        final.query = query or None  # None: no search (a listing of the whole collection)
        final.passages = result.passages
        left_out = history_notice(len(history), dropped) if dropped else None
        if result.notice or left_out:
            final.notice = " ".join(filter(None, [result.notice, left_out, final.notice]))
        yield final

    def search(self, query: str, options: AskOptions | None = None) -> SearchResult:
        """The passages found for `query`, best first, without an answer (the MCP `search`
        tool); `options` as in `ask_stream`, but its mode is not used. The query is checked
        as a question is.

        Raises:
            QuestionError: if the query is not text, empty or too long.
            IndexNotFoundError: if no index has been built.
            StoreUnavailableError: if the vector store cannot be reached.
        """
        problem = question_problem(query, self.settings.max_question_chars)
        if problem:
            raise QuestionError(problem)
        return self._search.search(
            clean_question(query), self.search_options(options or AskOptions())
        )

    def search_options(self, options: AskOptions) -> SearchOptions:
        """What retrieval is asked for: the question's options over the settings."""
        from askfront.retrieval.base import SearchOptions

        return SearchOptions(
            top_k=options.top_k or self.settings.top_k,
            hybrid=self.settings.hybrid if options.hybrid is None else options.hybrid,
            mmr=self.settings.mmr,
            sources=options.sources,
            date_from=options.date_from,
            date_to=options.date_to,
        )

    def _check_question(self, question: object) -> Answer | None:
        """A refused Answer for a question that cannot be asked, else None."""
        problem = question_problem(question, self.settings.max_question_chars)
        return Answer(text=problem, refused=True, notice=problem) if problem else None

    def _standalone(self, question: Resolved, history: Sequence[Turn], answerer: Answerer) -> str:
        """The query retrieval uses: an LLM condenses follow-ups; without one, a
        deterministic fallback carries the previous turn's key terms."""
        if not history:
            return str(question)
        if answerer.generative:
            condensed = answerer.condense(str(question), history)
            if condensed != question:
                return condensed
        # No LLM, or it could not rewrite the question: carry the previous turn's key terms.
        return question.query

    # -- documents and the index ----------------------------------------------------------
    def document(self, source: str) -> Document | None:
        """The normalized document (text that citation offsets point into), or None."""
        try:
            return self._search.build().docstore.document(source)
        except IndexNotFoundError:
            return None

    def article_passages(self, source: str) -> list[Passage]:
        """Every chunk of one indexed article, in order, as Passages (what collection
        answers and overviews cite); [] when it is not indexed."""
        try:
            return self.retriever().build.docstore.passages_of(source)
        except IndexNotFoundError:
            return []

    def mentions(
        self, phrase: str, date_from: str | None = None, date_to: str | None = None
    ) -> MentionResult:
        """Every indexed article that mentions `phrase`; raises IndexNotFoundError."""
        return self._search.mentions(phrase, date_from, date_to)

    def documents(self) -> list[DocumentRecord]:
        self._search.require_whole()  # a replica still filling would leave articles out
        try:
            rows = self._search.build().docstore.rows()
        except IndexNotFoundError:
            return []
        return [
            DocumentRecord(r.path, r.title, r.date, r.sha256, r.chunks, r.status, r.error)
            for r in rows
        ]

    def reindex(
        self, *, full: bool = False, progress: Progress | None = None, wait: bool = False
    ) -> IndexReport:
        """Sync the index with corpus_dir; the new build serves once it is complete.

        Raises:
            IndexLockedError: if another rebuild is running (and `wait` is False).
        """
        from askfront.indexing.sync import sync

        # The model is loaded only if there is something to embed (a no-op sync needs none).
        report = sync(
            self.index, full=full, progress=progress, embeddings=self._embeddings, wait=wait
        )
        self._search.forget()  # the next ask loads the new build
        return report

    def delete_document(self, source: str) -> IndexReport:
        """Delete corpus_dir/source and drop its chunks from the index.

        The file is removed under the index lock, so a rebuild that runs meanwhile cannot
        miss it: either this refuses before touching the file, or every later sync sees it
        gone (the one here waits for a rebuild that slipped in between).

        Raises:
            AskfrontError: if `source` is not a file inside the corpus folder.
            IndexLockedError: if another rebuild is running; nothing was deleted.
        """
        from askfront.indexing.sync import remove_source

        remove_source(self.index, source)
        return self.reindex(wait=True)


# -- components from the settings: the one place that reads them ---------------------------
def embedding_spec(settings: Settings) -> EmbeddingSpec:
    """Which embedding model the ASKFRONT_EMBEDDING_* settings ask for."""
    from askfront.indexing.embeddings import EmbeddingSpec

    return EmbeddingSpec(
        model=settings.embedding_model,
        profile=settings.embedding_profile,
        backend=settings.embedding_backend,
        batch_size=settings.embedding_batch_size,
        cache_dir=settings.cache_dir,
    )


def store_spec(settings: Settings) -> StoreSpec:
    """Where the index lives: its folder and its vectors (embedded Chroma or a server)."""
    from askfront.indexing.chroma import ChromaSpec
    from askfront.indexing.store import StoreSpec

    chroma = ChromaSpec(settings.chroma_mode, settings.chroma_host, settings.chroma_port)
    return StoreSpec(settings.index_dir, settings.collection, chroma)


def index_spec(settings: Settings) -> IndexSpec:
    """What `askfront index` reads and writes, and its per-file limits."""
    from askfront.indexing.sync import IndexSpec

    return IndexSpec(
        corpus_dir=settings.corpus_dir,
        store=store_spec(settings),
        embedding=embedding_spec(settings),
        chunk_tokens=settings.chunk_tokens,
        chunk_overlap_tokens=settings.chunk_overlap_tokens,
        max_file_bytes=int(settings.max_file_mb * 1024 * 1024),
        file_timeout=settings.file_timeout,
    )


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


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0
