"""The comparison system: llama-index out of the box, over the same article files and the same embedding model.

    VectorStoreIndex.from_documents(SimpleDirectoryReader(input_files=files).load_data(),
                                    storage_context=<Chroma>, embed_model=llama_embedding(stock(embedder)))

No cleaning (the raw files go in, page furniture and all; an HTML page as its visible text, which is what
a default HTML loader gives: llama-index core reads HTML as raw markup), the model run the default way (the loaded
sentence-transformers model on torch), the default splitter, dense retrieval of the top 2 chunks, no
query condensing (follow-ups are asked as they are). There is no LLM on this machine, so the "answer"
is the retrieved chunk texts joined and the citations are those whole chunks: what a default RAG
pipeline would hand its LLM and show as its sources. It never abstains.
Its vectors live in a separate Chroma collection ("baseline-default") on the pipeline's client and
are only rebuilt when the article files change.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from index.embed import Embedder, llama_embedding
from index.types import Chunk
from rag.errors import NotFoundError
from rag.pipeline import SEEDS_DIR, Pipeline
from rag.types import Answer, ArticleInfo, Citation, Passage

#: The names ``newsrag eval --compare`` accepts.
BASELINES = ("llamaindex-default",)

COLLECTION = "baseline-default"
TOP_K = 2


def fingerprint(documents: list[Any]) -> str:
    """Changes when any document's id, text or embedded path changes (what the stored collection is checked against).

    >>> from llama_index.core import Document
    >>> fingerprint([Document(text="a", id_="x")]) == fingerprint([Document(text="a", id_="x")])
    True
    """
    h = hashlib.sha256()
    for doc in sorted(documents, key=lambda d: d.id_):
        path = doc.metadata.get("file_path", "")
        h.update(f"{doc.id_}\0{path}\0{hashlib.sha256(doc.text.encode()).hexdigest()}\n".encode())
    return h.hexdigest()[:32]


def portable(documents: list[Any]) -> list[Any]:
    """The documents with their ``file_path`` made relative to their folder's parent ("seeds/000_….txt").

    llama-index embeds a chunk with its ``file_path`` by default, so an absolute path made the baseline's
    vectors, and its eval figures, depend on where the project was cloned (its answer correctness on
    ``eval/qa.jsonl`` was 0.933 from one folder and 0.889 from another). Everything else stays as
    llama-index sets it.

    >>> from llama_index.core import Document
    >>> portable([Document(text="a", metadata={"file_path": "/x/y/seeds/a.txt", "file_name": "a.txt"})])[0].metadata
    {'file_path': 'seeds/a.txt', 'file_name': 'a.txt'}
    """
    for doc in documents:
        path = Path(doc.metadata["file_path"])
        doc.metadata["file_path"] = f"{path.parent.name}/{path.name}"
    return documents


def article_files(inputs: Sequence[Path]) -> list[Path]:
    """The article files in ``inputs`` (folders, read flat, and files), as ``newsrag ingest`` would find them."""
    from index.load import find_articles

    return find_articles(inputs)


def html_reader() -> Any:
    """A llama-index reader giving an HTML page's visible text (``BeautifulSoup.get_text``), scripts and styles
    left out: what a plain pipeline's HTML loader gives, without newsrag's main-text extraction."""
    from bs4 import BeautifulSoup
    from llama_index.core import Document
    from llama_index.core.readers.base import BaseReader

    class VisibleText(BaseReader):
        def load_data(self, file: Path, extra_info: dict | None = None, **_: Any) -> list[Any]:
            soup = BeautifulSoup(Path(file).read_bytes(), "html.parser")
            for tag in soup(["script", "style", "noscript", "template"]):
                tag.decompose()
            text = "\n".join(line.strip() for line in soup.get_text("\n").splitlines() if line.strip())
            return [Document(text=text, metadata=extra_info or {})]

    return VisibleText()


class LlamaIndexDefault:
    """Callable as an eval ``System``: ``(question, history, k) -> Answer``; ``k`` is ignored (top 2)."""

    name = "llamaindex-default"

    def __init__(self, pipeline: Pipeline, inputs: Sequence[Path] = (SEEDS_DIR,), collection: str = COLLECTION,
                 top_k: int = TOP_K) -> None:
        self.pipeline = pipeline
        self.inputs = tuple(inputs)
        self.collection_name = collection
        self.top_k = top_k
        self.rebuilt = False

    @cached_property
    def index(self) -> Any:
        from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
        from llama_index.vector_stores.chroma import ChromaVectorStore

        reader = html_reader()
        files = [str(p) for p in article_files(self.inputs)]
        documents = portable(SimpleDirectoryReader(input_files=files, filename_as_id=True,
                                                   file_extractor={".html": reader, ".htm": reader}).load_data())
        fp = fingerprint(documents)
        client = self.pipeline.store.client
        embed_model = llama_embedding(stock(self.pipeline.embedder))
        collection = client.get_or_create_collection(self.collection_name, embedding_function=None)
        if (collection.metadata or {}).get("fingerprint") == fp and collection.count():
            return VectorStoreIndex.from_vector_store(ChromaVectorStore(chroma_collection=collection),
                                                      embed_model=embed_model)
        client.delete_collection(self.collection_name)
        collection = client.create_collection(self.collection_name, embedding_function=None)
        storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
        index = VectorStoreIndex.from_documents(documents, storage_context=storage, embed_model=embed_model)
        collection.modify(metadata={"fingerprint": fp})  # only once every chunk is in
        self.rebuilt = True
        return index

    @cached_property
    def retriever(self) -> Any:
        return self.index.as_retriever(similarity_top_k=self.top_k)

    def __call__(self, question: str, history: list[str], k: int) -> Answer:
        t0 = time.perf_counter()
        results = self.retriever.retrieve(question)
        passages: list[Passage] = []
        citations: list[Citation] = []
        for rank, hit in enumerate(results, start=1):
            node = hit.node
            file = str(node.metadata.get("file_name") or node.ref_doc_id or "unknown")
            info = ArticleInfo(doc_id=file, file=file, title=None, source=None, published=None)
            text = node.get_content()
            start = node.start_char_idx or 0
            end = node.end_char_idx if node.end_char_idx is not None else start + len(text)
            passages.append(Passage(Chunk(node.node_id, file, text, start, end), info, float(hit.score or 0.0), rank))
            citations.append(Citation(rank, info, start, end, text))
        total = (time.perf_counter() - t0) * 1e3
        return Answer(text="\n\n".join(p.chunk.text for p in passages), citations=citations, abstained=False,
                      query=question, passages=passages, trace={"timings_ms": {"total": total}})


def stock(embedder: Embedder) -> Embedder:
    """The embedder as llama-index runs a sentence-transformers model by default: on torch, not through
    newsrag's ONNX engine for questions (same model, same vectors to within 3e-7)."""
    as_stock = getattr(embedder, "stock", None)
    return as_stock() if callable(as_stock) else embedder


def make_baseline(name: str, pipeline: Pipeline, inputs: Sequence[Path] = (SEEDS_DIR,)) -> LlamaIndexDefault:
    """The comparison system called ``name`` over the articles in ``inputs``; ``NotFoundError`` listing the valid
    names otherwise."""
    if name == "llamaindex-default":
        return LlamaIndexDefault(pipeline, inputs)
    raise NotFoundError(f"Unknown comparison system {name!r}; valid: {', '.join(BASELINES)}")
