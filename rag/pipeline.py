"""The one path from files to cited answers: what the CLI, the UI and the eval runner call.

    pipeline = Pipeline(Settings())
    pipeline.ingest([Path("seeds")])
    answer = pipeline.ask("What did Okonjo say in Tampere?")

Heavy parts (the embedding model, Chroma, llama-index) are built on first use, never on import.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Generator, Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from index.embed import (
    Embedder,
    QueryVectors,
    SentenceTransformerEmbedder,
    llama_embedding,
    precision_of,
    probe_vector,
    question_embedder,
)
from index.ingest import FileResult, Ingestor, IngestReport, Progress
from index.lexical import LexicalIndex
from index.store import PROBE, ModelRecord, Store, StoredArticle
from index.types import Article, Details
from rag.answer import ExtractiveBackend, abstention, make_backend, register
from rag.condense import Query, condense
from rag.config import Settings
from rag.errors import LLMUnavailableError, QuestionError
from rag.llm import backends as _llm_backends  # noqa: F401 - registers openai, ollama and llamacpp
from rag.llm.prompt import ClaimStream, is_abstention
from rag.llm.stream import Checked, Event, Token
from rag.retrieve import HybridRetriever
from rag.support import SupportChecker
from rag.types import Answer, Filters, Passage, SentenceSupport
from rag.verify import assemble, sources_of, verify

#: The three starting articles shipped with the project.
SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"
#: Asked by ``Pipeline.warm_up``: someone's words, a count with a second part, and a meeting, so that the paths
#: most questions take have run once (a process's first few questions are slower: patterns compiled, caches
#: filled). In no eval question set, so no timed question finds its vector cached (a test checks).
WARM_UP_QUESTIONS = ("What did the Foreign Ministry say about dialogue with its neighbours?",
                     "How many members voted for the bill, and who signed it?",
                     "What did Okonjo tell Halvorsen when they met?")


class Pipeline:
    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None,
                 store: Store | None = None) -> None:
        self.settings = settings or Settings()
        self._embedder = embedder
        self.store = store or Store(self.settings)
        self._backends: dict[str, Any] = {}

    # -- parts, built lazily ---------------------------------------------------------------------

    @cached_property
    def embedder(self) -> Embedder:
        """The embedding model, at the precision the library was built with (``Settings.embed_precision`` for a new
        library), so that its questions' vectors are comparable with the stored ones."""
        if self._embedder is not None:
            return self._embedder
        s = self.settings
        record = self.store.model_record()
        precision = record.precision if record is not None else s.embed_precision
        return SentenceTransformerEmbedder(s.embed_model, s.device, s.allow_download, runtime=s.embed_runtime,
                                           cache_dir=s.models_dir, precision=precision)

    @cached_property
    def query_embedder(self) -> Embedder:
        """What embeds questions (and, for the verifier, answer sentences): the same model in float32 when the
        library's vectors are int8 (``SentenceTransformerEmbedder.for_queries``)."""
        return question_embedder(self.embedder)

    @cached_property
    def lexical(self) -> LexicalIndex:
        return LexicalIndex(self.store, self.settings.bm25_dir)

    @cached_property
    def embed_query(self) -> QueryVectors:
        """The query's vector, computed once per distinct query for retrieval and answering."""
        return QueryVectors(self.query_embedder)

    @cached_property
    def retriever(self) -> HybridRetriever:
        return HybridRetriever(self.store, self.lexical, llama_embedding(self.query_embedder), self.embed_query)

    @cached_property
    def support(self) -> SupportChecker:
        """Checks every answer sentence against what it cites (``rag.support``), with the same embedding model."""
        def embed(texts: list[str]) -> Any:
            import numpy as np

            self.embed_query.prime(texts)
            return np.stack([self.embed_query(t) for t in texts])

        return SupportChecker(embed, self.store.sentence_vectors)

    @cached_property
    def ingestor(self) -> Ingestor:
        return Ingestor(self.store, self.embedder, self.settings.max_file_bytes, self.settings.chunk_chars,
                        follow_symlinks=self.settings.follow_symlinks, group=self.settings.ingest_group,
                        ahead_bytes=self.settings.ingest_ahead_bytes)

    def backend(self, name: str | None = None) -> Any:
        name = name or self.settings.backend
        if name not in self._backends:
            self._backends[name] = make_backend(name, self)
        return self._backends[name]

    # -- library ---------------------------------------------------------------------------------

    # Each holds the library's writer lock (``Store.writing``) to the end, the BM25 cache saved: another writer, in
    # this process or another, waits for it (and is told by whom).

    def ingest(self, paths: Sequence[Path], progress: Progress | None = None) -> IngestReport:
        with self.store.writing():
            report = self.ingestor.ingest_paths(paths, progress)
            self.lexical.refresh()
        return report

    def ingest_upload(self, name: str, data: bytes, details: Details | None = None) -> IngestReport:
        with self.store.writing():
            report = self.ingestor.ingest_upload(name, data, details)
            self.lexical.refresh()
        return report

    def restore(self, article: Article) -> IngestReport:
        """Put back an article taken out of the library (undo a delete): chunked and embedded again."""
        with self.store.writing():
            report = self.ingestor.ingest_articles([article])
            self.lexical.refresh()
        return report

    def update_details(self, ref: str, details: Details) -> StoredArticle:
        """Set the title, source or date of the article ``ref`` names (the fields ``details`` gives); its
        passages keep their ids and vectors, and the BM25 index is rebuilt with the new details."""
        with self.store.writing():
            doc_id = self.store.find(ref).doc_id
            self.store.update_details(doc_id, details)
            self.lexical.refresh()
        return self.store.find(doc_id)

    def delete(self, ref: str, exact: bool = False) -> FileResult:
        """Delete the article named by its id or file name (or, unless ``exact``, a unique prefix of either)."""
        with self.store.writing():
            result = self.ingestor.delete(ref, exact=exact)
            self.lexical.refresh()
        return result

    def ensure_seeds(self) -> IngestReport | None:
        """Ingest the shipped seed articles when the store is empty (first use), or holds only some of them (a first
        use that was interrupted)."""
        stored = {a.file for a in self.store.articles()}
        seeds = {p.name for p in SEEDS_DIR.glob("*.txt")}
        if stored and not (stored < seeds):
            return None
        return self.ingest([SEEDS_DIR])

    def warm_up(self, backend: str | None = None) -> None:
        """Load now what the first questions would otherwise wait for: the embedding model and its ONNX export,
        Chroma, the BM25 index, llama-index and the answer model (a server's first user, or the first question an
        eval times, then pays nothing extra)."""
        for question in WARM_UP_QUESTIONS:
            self.ask(question, backend=backend)

    def articles(self) -> list[StoredArticle]:
        return self.store.articles()

    def article(self, ref: str) -> Article:
        return self.store.article(self.store.find(ref).doc_id)

    # -- questions -------------------------------------------------------------------------------

    def previous_answer(self, history: Sequence[str], k: int | None = None, backend: str | None = None,
                        filters: Filters | None = None) -> Answer:
        """The answer to the conversation's last question, asked after the two before it (all ``condense``
        reads), so a long conversation costs at most three earlier answers, not one per turn."""
        return self.ask(history[-1], history[-3:-1], k, backend, filters)

    def check_question(self, question: str, history: Sequence[str] = ()) -> None:
        """Refuse a question (or an earlier one of the conversation) longer than ``max_question_chars``: the work of
        answering grows with its length, and no question about the news needs pages."""
        limit = self.settings.max_question_chars
        for text, what in ((question, "The question"), *((h, "An earlier question") for h in history)):
            if len(text) > limit:
                raise QuestionError(f"{what} is {len(text):,} characters long; the limit is {limit:,} "
                                    "(NEWSRAG_MAX_QUESTION_CHARS). Ask it in fewer words.")

    def check_model(self) -> None:
        """Once per process and model: the library must have been built with this embedding model. Asking needs only
        the question embedder, when the library recorded how that model embeds a question; otherwise (a library
        recorded before that) the probe is embedded as the library's vectors were."""
        name = self.embedder.name
        if name in self.store.verified_models or name in self.store.asked_models:
            return
        if self.store.questions_match(name, probe_vector(self.query_embedder, PROBE)):
            self.store.asked_models.add(name)
            return
        record = ModelRecord.of(name, self.embedder.embed([PROBE])[0], precision_of(self.embedder))
        self.store.check_model(record)

    def ask(self, question: str, history: Sequence[str] = (), k: int | None = None, backend: str | None = None,
            filters: Filters | None = None, previous: Answer | None = None) -> Answer:
        """Answer ``question`` (asked after the user's earlier ``history`` questions) with citations.

        A follow-up stays on the articles the ``previous`` answer cited (or, when it abstained, the one it
        retrieved first); a caller that has the previous answer (the chat) passes it, otherwise it is asked
        again here. The whole answer is read from one state of the library (``Store.reading``)."""
        for event in self.ask_stream(question, history, k, backend, filters, previous):
            if isinstance(event, Answer):
                return event
        raise AssertionError("ask_stream ends with its answer")

    def ask_stream(self, question: str, history: Sequence[str] = (), k: int | None = None,
                   backend: str | None = None, filters: Filters | None = None,
                   previous: Answer | None = None) -> Iterator[Event | Answer]:
        """``ask``, as it happens: a generative backend's tokens (``Token``) and each sentence once it is complete
        and checked (``Checked``), then the verified ``Answer`` (the only event of the extractive backend)."""
        self.check_question(question, history)
        # made before reading (a store of an older version is given its entities then, which writes); the extractive
        # backend too, which answers when an LLM cannot
        chosen = self.backend(backend)
        self.backend("extractive")
        with self.store.reading():
            self.check_model()
            yield from self._ask_stream(chosen, question, history, k, backend, filters, previous)

    def _ask_stream(self, chosen: Any, question: str, history: Sequence[str], k: int | None, backend: str | None,
                    filters: Filters | None, previous: Answer | None) -> Iterator[Event | Answer]:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        generative = getattr(chosen, "generative", False)
        query, passages = self.retrieve(question, history, k, backend, filters, previous, timings,
                                        llm=chosen if generative else None)
        t2 = time.perf_counter()
        if generative:
            answer = yield from self._generate(chosen, query, passages, t0, timings)
            t3 = t4 = time.perf_counter()
        else:
            answer = chosen.answer(query, passages)
            t3 = time.perf_counter()
            answer = verify(answer, passages, self.support)
            t4 = time.perf_counter()
        timings.update(answer=(t3 - t2) * 1e3, verify=timings.get("verify", (t4 - t3) * 1e3),
                       total=(t4 - t0) * 1e3)
        answer.trace["timings_ms"] = timings
        answer.trace["rewritten"] = query.rewritten
        answer.trace["backend"] = chosen.name
        yield answer

    def retrieve(self, question: str, history: Sequence[str] = (), k: int | None = None, backend: str | None = None,
                 filters: Filters | None = None, previous: Answer | None = None,
                 timings: dict[str, float] | None = None, llm: Any = None) -> tuple[Query, list[Passage]]:
        """The standalone query for ``question`` and the passages retrieved for it (what ``ask`` answers from).

        A follow-up stays on the articles the ``previous`` answer cited (or, when it abstained, the one it
        retrieved first); a caller that has the previous answer (the chat) passes it, otherwise it is asked
        again here. With an ``llm``, the LLM writes a follow-up's standalone question."""
        timings = {} if timings is None else timings
        t0 = time.perf_counter()
        query = condense(question, list(history), known=self.lexical.known)
        about: frozenset[str] = frozenset()
        if query.rewritten:
            previous = previous or self.previous_answer(history, k, backend, filters)
            about = conversation_articles(previous)
            query = dataclasses.replace(query, follows=tuple((c.article.doc_id, c.end) for c in previous.citations))
            if llm is not None:
                query = self._llm_condense(llm, query, question, history, timings)
        t1 = time.perf_counter()  # condensing includes asking the previous question again, when needed
        k = k or self.settings.top_k
        passages = self.retriever.retrieve(query.text, k, filters, about)
        timings.update(condense=(t1 - t0) * 1e3, retrieve=(time.perf_counter() - t1) * 1e3)
        return query, passages

    # -- generative backends ---------------------------------------------------------------------

    def _llm_condense(self, llm: Any, query: Query, question: str, history: Sequence[str],
                      timings: dict[str, float]) -> Query:
        """With an LLM configured, the LLM writes a follow-up's standalone question (shown as the rule-based one
        is); the rules' carried words stay as the query's context. A failed or unusable reply keeps the rules'."""
        t = time.perf_counter()
        try:
            standalone = llm.condense(question, list(history))
        except LLMUnavailableError:
            standalone = None
        timings["condense_llm"] = (time.perf_counter() - t) * 1e3
        if not standalone:
            return query
        return dataclasses.replace(query, text=standalone, question=standalone)

    def _generate(self, llm: Any, query: Query, passages: list[Passage], t0: float,
                  timings: dict[str, float]) -> Generator[Event, None, Answer]:
        """Stream the LLM's answer, check each sentence as it completes, and build the verified answer; the
        extractive answer instead when the LLM fails (one line saying why) or none of its sentences is supported."""
        if not passages:
            return abstention(query, passages)
        sources = sources_of(passages)
        claims = ClaimStream()
        verdicts = []
        checking = 0.0

        def check(found: list[tuple[str, tuple[int, ...]]]) -> Iterator[Checked]:
            nonlocal checking
            for text, cites in found:
                t = time.perf_counter()
                v = self.support.check(text, cites, sources)
                checking += time.perf_counter() - t
                verdicts.append(v)
                yield Checked(SentenceSupport(v.text, v.kept, v.score, v.lexical, v.dense, v.cited, v.reasons))

        try:
            for token in llm.stream(query, passages):
                timings.setdefault("first_token", (time.perf_counter() - t0) * 1e3)
                yield Token(token)
                yield from check(claims.feed(token))
            yield from check(claims.finish())
        except LLMUnavailableError as exc:
            return self._extractive_instead(query, passages, f"{llm.name} backend: {exc}")
        timings["verify"] = checking * 1e3
        raw = Answer(claims.text, [], False, query.text, passages, generated=True)
        raw.trace["generated_text"] = claims.text
        if is_abstention(claims.text):
            answer = abstention(query, passages, "the LLM found no answer in the passages")
            answer.generated = True
            answer.trace["generated_text"] = claims.text
            return answer
        answer = assemble(raw, verdicts, sources, passages)
        if answer.abstained:
            fallback = self._extractive_instead(query, passages, "no sentence of the LLM's answer was supported by "
                                                "the passages it cited")
            fallback.sentences = answer.sentences
            fallback.trace["generated_text"] = claims.text
            return fallback
        return answer

    def _extractive_instead(self, query: Query, passages: list[Passage], reason: str) -> Answer:
        answer = verify(self.backend("extractive").answer(query, passages), passages, self.support)
        answer.fallback = reason
        return answer


def conversation_articles(previous: Answer) -> frozenset[str]:
    """The articles a conversation is about: those its previous answer cited, or the one it retrieved first."""
    cited = frozenset(c.article.doc_id for c in previous.citations)
    return cited or frozenset(p.article.doc_id for p in previous.passages[:1])


def _extractive(pipeline: Pipeline) -> ExtractiveBackend:
    pipeline.store.annotate_missing()  # a store written before entities were found at ingestion gets them once
    return ExtractiveBackend(
        embed_query=pipeline.embed_query,
        sentence_vectors=pipeline.store.sentence_vectors,
        sentence_entities=pipeline.store.sentence_entities,
        document_frequency=pipeline.lexical.document_frequency,
        article_text=lambda doc_id: pipeline.store.article(doc_id).text,
        threshold=pipeline.settings.abstain_below,
    )


register("extractive", _extractive)
