"""The one path from files to cited answers: what the CLI, the UI and the eval runner call.

    pipeline = Pipeline(Settings())
    pipeline.ingest([Path("seeds")])
    answer = pipeline.ask("What did Lavrov say in Manila?")

Heavy parts (the embedding model, Chroma, llama-index) are built on first use, never on import.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from index.embed import Embedder, QueryVectors, SentenceTransformerEmbedder, llama_embedding
from index.ingest import FileResult, Ingestor, IngestReport, Progress
from index.lexical import LexicalIndex
from index.store import PROBE, ModelRecord, Store, StoredArticle
from index.types import Article
from rag.answer import ExtractiveBackend, load_word_lists, make_backend, register
from rag.condense import condense
from rag.config import Settings
from rag.errors import QuestionError
from rag.retrieve import HybridRetriever
from rag.types import Answer, Filters, Passage
from rag.verify import verify

#: The three starting articles shipped with the project.
SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"
#: Asked by ``Pipeline.warm_up``: someone's words, a count with a second part, and a meeting, so that the paths
#: most questions take have run once (a process's first few questions are slower: patterns compiled, caches
#: filled). In no eval question set, so no timed question finds its vector cached (a test checks).
WARM_UP_QUESTIONS = ("What did the Foreign Ministry say about dialogue with Washington?",
                     "How many senators voted for the sanctions bill, and who signed it?",
                     "What did Lavrov tell Tillerson when they met?")


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
        s = self.settings
        return self._embedder or SentenceTransformerEmbedder(s.embed_model, s.device, s.allow_download,
                                                             runtime=s.embed_runtime, cache_dir=s.models_dir)

    @cached_property
    def lexical(self) -> LexicalIndex:
        return LexicalIndex(self.store, self.settings.bm25_dir)

    @cached_property
    def embed_query(self) -> QueryVectors:
        """The query's vector, computed once per distinct query for retrieval and answering."""
        return QueryVectors(self.embedder)

    @cached_property
    def retriever(self) -> HybridRetriever:
        return HybridRetriever(self.store, self.lexical, llama_embedding(self.embedder), self.embed_query)

    @cached_property
    def ingestor(self) -> Ingestor:
        return Ingestor(self.store, self.embedder, self.settings.max_file_bytes, self.settings.chunk_chars,
                        follow_symlinks=self.settings.follow_symlinks)

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

    def ingest_upload(self, name: str, data: bytes) -> IngestReport:
        with self.store.writing():
            report = self.ingestor.ingest_upload(name, data)
            self.lexical.refresh()
        return report

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
        Chroma, the BM25 index, llama-index and the answerer's word lists (a server's first user, or the first
        question an eval times, then pays nothing extra)."""
        load_word_lists()
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
        """Once per process and model: the library must have been built with this embedding model."""
        if self.embedder.name not in self.store.verified_models:
            self.store.check_model(ModelRecord.of(self.embedder.name, self.embed_query(PROBE)))

    def ask(self, question: str, history: Sequence[str] = (), k: int | None = None, backend: str | None = None,
            filters: Filters | None = None, previous: Answer | None = None) -> Answer:
        """Answer ``question`` (asked after the user's earlier ``history`` questions) with citations.

        A follow-up stays on the articles the ``previous`` answer cited (or, when it abstained, the one it
        retrieved first); a caller that has the previous answer (the chat) passes it, otherwise it is asked
        again here. The whole answer is read from one state of the library (``Store.reading``)."""
        self.check_question(question, history)
        with self.store.reading():
            self.check_model()
            return self._ask(question, history, k, backend, filters, previous)

    def _ask(self, question: str, history: Sequence[str], k: int | None, backend: str | None,
             filters: Filters | None, previous: Answer | None) -> Answer:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        query = condense(question, list(history))
        about: frozenset[str] = frozenset()
        if query.rewritten:
            previous = previous or self.previous_answer(history, k, backend, filters)
            about = conversation_articles(previous)
            query = dataclasses.replace(query, follows=tuple((c.article.doc_id, c.end) for c in previous.citations))
        t1 = time.perf_counter()  # condensing includes asking the previous question again, when needed
        k = k or self.settings.top_k
        # Each part of a question that asks for several things brings its own passages.
        context = f" ({', '.join(query.context)})" if query.context else ""
        part_queries = [part + context for part in query.parts]
        # one model call: for the question, or for its parts, whose mean is then the question's vector
        self.embed_query.prime_as_mean(query.text, part_queries)
        passages, *by_part = self.retriever.retrieve_many([query.text, *part_queries], k, filters, about)
        if by_part:
            passages = merge_parts(passages, by_part, k)
        t2 = time.perf_counter()
        answer = self.backend(backend).answer(query, passages)
        t3 = time.perf_counter()
        answer = verify(answer, passages)
        t4 = time.perf_counter()
        timings.update(condense=(t1 - t0) * 1e3, retrieve=(t2 - t1) * 1e3, answer=(t3 - t2) * 1e3,
                       verify=(t4 - t3) * 1e3, total=(t4 - t0) * 1e3)
        answer.trace["timings_ms"] = timings
        answer.trace["rewritten"] = query.rewritten
        return answer


def conversation_articles(previous: Answer) -> frozenset[str]:
    """The articles a conversation is about: those its previous answer cited, or the one it retrieved first."""
    cited = frozenset(c.article.doc_id for c in previous.citations)
    return cited or frozenset(p.article.doc_id for p in previous.passages[:1])


def merge_parts(whole: Sequence[Passage], by_part: Sequence[Sequence[Passage]], k: int) -> list[Passage]:
    """The first ``k`` distinct passages of: each part's best, the whole question's ranking, the parts'
    others; ranks renumbered. Each part is sure of its best passage; the rest is ranked by the whole
    question rather than by a part alone (taking the lists in turn let each part's second-best
    distractor push out the whole question's third-best passage, q45's Minsk quote among them)."""
    out: dict[str, Passage] = {}
    for p in [*(part[0] for part in by_part if part), *whole, *(p for part in by_part for p in part[1:])]:
        if len(out) < k:
            out.setdefault(p.chunk.chunk_id, p)
    return [Passage(p.chunk, p.article, p.score, i + 1) for i, p in enumerate(out.values())]


def _extractive(pipeline: Pipeline) -> ExtractiveBackend:
    return ExtractiveBackend(
        embed_query=pipeline.embed_query,
        sentence_vectors=pipeline.store.sentence_vectors,
        document_frequency=pipeline.lexical.document_frequency,
        article_text=lambda doc_id: pipeline.store.article(doc_id).text,
        threshold=pipeline.settings.abstain_below,
    )


register("extractive", _extractive)
