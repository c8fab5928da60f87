"""Benchmark: newsrag's ingestion beside plain llama-index on the same articles and model, its cold start and
its warm query latency. One table on stdout, every figure in ``bench.json``.

    .venv/bin/python -m eval.bench                  # ~100 articles drawn deterministically from ../shared/data
    .venv/bin/python -m eval.bench --all            # the seeds, every CSV row and every HTML page there
    .venv/bin/python -m eval.bench --articles 40 --no-profile --runs 1 --cold 1

Each ingestion runs as a process of its own (start-up, imports and model loading included, as a user waits
for them), on article files written into a temporary folder (the data is read where it is, never copied
into the project). Plain llama-index is ``VectorStoreIndex.from_documents`` with its default splitter into
an embedded Chroma, the same packaged MiniLM model run by sentence-transformers on torch (``eval.baseline``).
Peak memory is each process's own maximum resident set (``wait4``); "tokens embedded" counts the word pieces
the model read (each embedded text's, up to the model's 256-token limit, where llama-index's 1,024-token chunks
are cut): newsrag's sentences (its chunk vectors are their means), llama-index's chunks. ``--profile`` (on by
default) runs the newsrag ingest once more under cProfile and says where its time goes, by stage. ``--scales``
times warm questions on larger libraries grown from the ingested one (``eval.scale``), each in a process of its own
for its peak memory.

Figures are measured, never asserted: these machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
#: Stages of an ingest or a cold question, each the cumulative time of the functions whose
#: ``file:function`` matches (the first stage a call matches counts it; nested stages are not double counted
#: because only the outermost matching frame is taken, see ``stage_times``).
INGEST_STAGES = (
    ("load + clean + describe", r"index/ingest\.py:\d+\(prepare\)"),
    ("sentence splitting", r"index/chunk\.py:\d+\(split_sentences\)"),
    ("embedding (model)", r"index/embed\.py:\d+\(embed\)"),
    ("entities (spaCy NER)", r"index/annotate\.py:\d+\(annotate\)"),
    ("Chroma writes", r"index/store\.py:\d+\(add_many\)"),
    ("BM25 index", r"index/lexical\.py:\d+\(refresh\)"),
    ("of which model loading", r"index/embed\.py:\d+\(_load\)|index/annotate\.py:\d+\(_nlp\)"),
)
ASK_STAGES = (
    ("imports", r"<frozen importlib._bootstrap>:\d+\(_find_and_load\)"),
    ("embedding model loading", r"index/embed\.py:\d+\(_load\)"),
    ("ONNX engine", r"index/embed\.py:\d+\(engine\)"),
    ("BM25 index", r"index/lexical\.py:\d+\(refresh\)|index/lexical\.py:\d+\(_load\)"),
    ("answering", r"rag/pipeline\.py:\d+\(ask\)"),
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# -- the articles --------------------------------------------------------------------------------


def draw(names: list[str], n: int) -> list[int]:
    """``n`` indices spread evenly over ``names`` sorted (the same draw on every machine).

    >>> draw(["c", "a", "b", "d"], 2)
    [0, 2]
    """
    order = sorted(range(len(names)), key=lambda i: names[i])
    n = min(n, len(order))
    return sorted(order[i * len(order) // n] for i in range(n)) if n else []


def materialise(dest: Path, n: int | None) -> list[Path]:
    """Write the benchmark's articles into ``dest`` as files: ``n`` CSV rows drawn by ``draw``, or with ``n`` None
    the seeds, every CSV row and every HTML page of ../shared/data."""
    from eval.distractors import missing_message, read_folder
    from rag.pipeline import SEEDS_DIR

    if (why := missing_message(DATA)) is not None:
        raise SystemExit(why.replace("distractor run", "benchmark"))
    docs = read_folder(DATA).docs
    chosen = docs if n is None else [docs[i] for i in draw([d.name for d in docs], n)]
    dest.mkdir(parents=True)
    files = []
    for doc in chosen:
        (path := dest / doc.name).write_text(doc.text, encoding="utf-8")
        files.append(path)
    if n is None:
        for seed in sorted(SEEDS_DIR.glob("*.txt")):
            (path := dest / seed.name).write_bytes(seed.read_bytes())
            files.append(path)
        for page in sorted((DATA / "html-pages" / "pages").glob("*.htm*")):
            (path := dest / page.name).write_bytes(page.read_bytes())
            files.append(path)
    return files


# -- one process per ingest ----------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    system: str
    seconds: float
    peak_mb: float
    chunks: int
    articles: int
    kb: float

    def rates(self) -> dict[str, float]:
        return {"articles/s": self.articles / self.seconds, "chunks/s": self.chunks / self.seconds,
                "KB text/s": self.kb / self.seconds, "peak MB": self.peak_mb, "seconds": self.seconds}


def timed(cmd: list[str], env: dict[str, str] | None = None, ok: tuple[int, ...] = (0, 1)) -> tuple[float, float, str]:
    """Run ``cmd``; (wall seconds, peak resident MB of the process, stdout). Fails loudly with its stderr unless it
    exits with one of ``ok`` (an ingest exits with 1 when some files are refused, which its report counts)."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd[:4])} … failed ({proc.returncode}):\n{stderr[-3000:]}")
    return seconds, usage.ru_maxrss / 1024, stdout


def newsrag_cmd() -> str:
    return str(Path(sys.executable).with_name("newsrag"))


def run_newsrag(articles: Path, store: Path, kb: float, n: int) -> Run:
    """``newsrag ingest`` of the articles into a new library, the model's ONNX export already made (as for every
    ingest on a machine after its first: the export takes about 7 s once, see ``export_model``)."""
    seconds, peak, out = timed([newsrag_cmd(), "--data-dir", str(store), "ingest", str(articles), "--json"])
    report = json.loads(out)
    return Run("newsrag ingest", seconds, peak, int(report["chunks_in_store"]), n, kb)


def export_model() -> float:
    """Make the model's ONNX export, at the precision of a new library, if this machine has none yet
    (``index.onnx_engine``); seconds it took."""
    from index.embed import SentenceTransformerEmbedder
    from rag.config import Settings

    t0 = time.perf_counter()
    settings = Settings()
    embedder = SentenceTransformerEmbedder(runtime="onnx", cache_dir=settings.models_dir,
                                           precision=settings.embed_precision)
    assert embedder.engine is not None and embedder.engine.precision == settings.embed_precision
    return time.perf_counter() - t0


def run_llamaindex(articles: Path, store: Path, kb: float, n: int) -> Run:
    seconds, peak, out = timed([sys.executable, "-m", "eval.bench", "--llamaindex-worker", str(articles), str(store)])
    return Run("llama-index from_documents", seconds, peak, int(json.loads(out)["chunks"]), n, kb)


def llamaindex_worker(articles: Path, store: Path) -> None:
    """Plain llama-index: read the files, default splitter, same model on torch, embedded Chroma. Prints the
    number of chunks stored as JSON."""
    import chromadb
    from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from eval.baseline import article_files, html_reader
    from index.embed import SentenceTransformerEmbedder, llama_embedding

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    reader = html_reader()
    files = [str(p) for p in article_files([articles])]
    documents = SimpleDirectoryReader(input_files=files, file_extractor={".html": reader, ".htm": reader}).load_data()
    client = chromadb.PersistentClient(path=str(store))
    collection = client.get_or_create_collection("bench", embedding_function=None)
    storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
    VectorStoreIndex.from_documents(documents, storage_context=storage,
                                    embed_model=llama_embedding(SentenceTransformerEmbedder()))
    print(json.dumps({"chunks": collection.count()}))


def stored_texts(client: Any, name: str) -> list[str]:
    """The texts a collection's vectors were embedded from: its documents (llama-index's chunks)."""
    return [t or "" for t in client.get_collection(name).get(include=["documents"])["documents"] or []]


def newsrag_sentences(client: Any, name: str) -> list[str]:
    """The texts of a newsrag library's sentence vectors, cut from its chunks by their spans (a sentence's text is
    not stored with its vector)."""
    got = client.get_collection(name).get(include=["documents", "metadatas"])
    return [text[s - meta["start"] : e - meta["start"]] for text, meta in zip(got["documents"], got["metadatas"],
                                                                               strict=True)
            for s, e in json.loads(meta["sentences"])]


def tokens_embedded(texts: list[str]) -> int:
    """How many word pieces the model read to embed these texts: each text's tokens, up to the model's
    ``max_seq_length`` (beyond it, sentence-transformers truncates and the rest is never embedded)."""
    from tokenizers import Tokenizer

    from index.embed import resolve_model
    from rag.config import PACKAGED_MODEL

    folder = Path(resolve_model(PACKAGED_MODEL))
    limit = int(json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"])
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()  # the file pads and cuts every text to 128 pieces: count the real ones
    tokenizer.no_truncation()
    return sum(min(limit, len(e.ids)) for e in tokenizer.encode_batch(texts))


# -- where the time goes -------------------------------------------------------------------------


def stage_times(stats: pstats.Stats, stages: tuple[tuple[str, str], ...]) -> dict[str, float]:
    """Seconds per stage: the cumulative time of the matching functions, less what they spent inside other
    matches of the same stage (a recursive or re-entered function is counted once)."""
    out: dict[str, float] = {}
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for label, pattern in stages:
        rx = re.compile(pattern)
        matched = {fn for fn in table if rx.search(f"{fn[0]}:{fn[1]}({fn[2]})")}
        total = 0.0
        for fn in matched:
            _, _, _, cumulative, callers = table[fn]
            # time reached from outside the stage only
            inner = sum(c[3] for caller, c in callers.items() if caller in matched)
            total += cumulative - inner
        out[label] = total
    return out


def profile_ingest(articles: Path, store: Path) -> dict[str, float]:
    """Ingest under cProfile in this process (a fresh store): seconds per stage, and the total."""
    from rag.config import Settings
    from rag.pipeline import Pipeline

    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    Pipeline(Settings(data_dir=store)).ingest([articles])
    profiler.disable()
    total = time.perf_counter() - t0
    stages = stage_times(pstats.Stats(profiler), INGEST_STAGES)
    stages["total (under the profiler)"] = total
    return stages


def cold_ask(store: Path, question: str, runs: int) -> dict[str, Any]:
    """``newsrag ask`` in a new process on the built store: wall time per run, then one run with
    ``-X importtime`` (the heaviest top-level imports) and one under cProfile (seconds per stage)."""
    cmd = [newsrag_cmd(), "--data-dir", str(store), "ask", "--json", question]
    walls = [timed(cmd)[0] for _ in range(runs)]
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "from rag.cli import main; main()", *cmd[1:]],
                          capture_output=True, text=True)
    imports: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)", line)
        if m and len(m.group(2)) <= 1:  # top-level imports only (nested ones are inside their cumulative)
            root = m.group(3).split(".")[0]
            imports[root] = imports.get(root, 0.0) + int(m.group(1)) / 1e6
    with tempfile.NamedTemporaryFile(suffix=".prof") as prof:
        subprocess.run([sys.executable, "-m", "cProfile", "-o", prof.name, newsrag_cmd(), *cmd[1:]],
                       capture_output=True, check=True)
        stages = stage_times(pstats.Stats(prof.name), ASK_STAGES)
    top = dict(sorted(imports.items(), key=lambda kv: -kv[1])[:6])
    return {"runs_s": walls, "median_s": statistics.median(walls), "min_s": min(walls),
            "imports_s": sum(imports.values()), "top_imports_s": top, "stages_s": stages}


def warm_queries(store: Path, questions: list[str], runs: int) -> dict[str, Any]:
    """Retrieval alone, and retrieval + answer + verification, over ``questions`` on the built store, warm."""
    from rag.config import Settings
    from rag.pipeline import Pipeline

    pipeline = Pipeline(Settings(data_dir=store))
    pipeline.warm_up()
    retrieve: list[float] = []
    ask: list[float] = []
    for _ in range(runs):
        for q in questions:
            pipeline.embed_query.cache_clear()
            t0 = time.perf_counter()
            pipeline.retrieve(q)
            retrieve.append((time.perf_counter() - t0) * 1e3)
            pipeline.embed_query.cache_clear()
            t0 = time.perf_counter()
            pipeline.ask(q)
            ask.append((time.perf_counter() - t0) * 1e3)
    return {"chunks": pipeline.store.count(), "questions": len(retrieve),
            "retrieve_ms": {"median": statistics.median(retrieve), "p95": percentile(retrieve, 0.95)},
            "ask_ms": {"median": statistics.median(ask), "p95": percentile(ask, 0.95)}}


def scaled_queries(source: Path, root: Path, sizes: list[int], questions: list[str],
                   runs: int) -> Iterator[dict[str, Any]]:
    """Warm latency on libraries of each size (``eval.scale``: the benchmark's library, then copies of it), each
    measured in a process of its own for its peak memory, with the library's size on disk; a row per size."""
    from eval.scale import build

    for n in sizes:
        dest = root / f"scale-{n}"
        t0 = time.perf_counter()
        chunks = build(source, dest, n)
        built = time.perf_counter() - t0
        listed = root / "questions.json"
        listed.write_text(json.dumps(questions), encoding="utf-8")
        _, peak_mb, stdout = timed([sys.executable, "-m", "eval.bench", "--warm-worker", str(dest), str(listed),
                                    str(runs)], ok=(0,))
        disk = sum(f.stat().st_size for f in dest.rglob("*") if f.is_file()) / 2**20
        shutil.rmtree(dest)
        yield {**json.loads(stdout), "asked_for": n, "chunks": chunks, "build_s": built, "peak_mb": peak_mb,
               "disk_mb": disk}


def questions_from(files: list[Path], n: int = 30) -> list[str]:
    """A question per article, from its opening words: "What about <first 12 words>?" (general, no wording
    of any corpus chosen by hand)."""
    out = []
    for path in files[:n]:
        words = path.read_text(encoding="utf-8", errors="replace").split()[:12]
        if words:
            out.append("What about " + " ".join(words) + "?")
    return out


# -- the table -----------------------------------------------------------------------------------


def table(result: dict[str, Any]) -> str:
    new, base = result["newsrag"], result["llamaindex"]
    lines = [f"ingest of {result['articles']} articles ({result['kb']:.0f} KB of text), one process each",
             f"{'':<16}{'newsrag':>12}{'llama-index':>14}{'ratio':>8}"]
    for key in ("articles/s", "chunks/s", "KB text/s", "tokens/s", "tokens embedded", "seconds", "peak MB"):
        ratio = new[key] / base[key] if base[key] else float("nan")
        lines.append(f"{key:<16}{new[key]:>12.2f}{base[key]:>14.2f}{ratio:>7.2f}×")
    lines.append(f"{'chunks':<16}{result['newsrag_chunks']:>12}{result['llamaindex_chunks']:>14}")
    if prof := result.get("profile"):
        lines.append("newsrag ingest under cProfile, seconds by stage:")
        lines += [f"  {k:<28}{v:>8.1f}" for k, v in prof.items()]
    if cold := result.get("cold_ask"):
        lines.append(f"cold `newsrag ask`: median {cold['median_s']:.2f} s, min {cold['min_s']:.2f} s "
                     f"({len(cold['runs_s'])} runs); imports {cold['imports_s']:.2f} s, heaviest: "
                     + ", ".join(f"{k} {v:.2f}" for k, v in cold["top_imports_s"].items()))
        lines.append("  under cProfile: " + ", ".join(f"{k} {v:.2f} s" for k, v in cold["stages_s"].items()))
    if warm := result.get("warm"):
        lines.append(f"warm, {warm['chunks']} chunks, {warm['questions']} questions: "
                     f"retrieve median {warm['retrieve_ms']['median']:.1f} ms p95 {warm['retrieve_ms']['p95']:.1f} ms; "
                     f"retrieve + answer median {warm['ask_ms']['median']:.1f} ms p95 {warm['ask_ms']['p95']:.1f} ms")
    for row in result.get("scales", []):
        r, a = row["retrieve_ms"], row["ask_ms"]
        lines.append(f"warm, {row['chunks']:>7,} chunks (eval.scale): retrieve median {r['median']:.1f} ms p95 "
                     f"{r['p95']:.1f}; retrieve + answer median {a['median']:.1f} ms p95 {a['p95']:.1f}; "
                     f"peak {row['peak_mb']:,.0f} MB, {row['disk_mb']:,.0f} MB on disk")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100, help="CSV rows drawn from ../shared/data [100]")
    parser.add_argument("--all", action="store_true", help="the seeds, every CSV row and every HTML page")
    parser.add_argument("--runs", type=int, default=3, help="warm passes over the questions [3]")
    parser.add_argument("--cold", type=int, default=3, help="cold `newsrag ask` processes [3]")
    parser.add_argument("--profile", action=argparse.BooleanOptionalAction, default=True,
                        help="profile newsrag's ingest by stage (a second ingest) [on]")
    parser.add_argument("--scales", default="1000,10000",
                        help="warm latency on libraries of these many chunks, built from the benchmark's (eval.scale), "
                             "joined by commas; '' for none [1000,10000]; add 100000 for the largest")
    parser.add_argument("--out", type=Path, default=Path("bench.json"))
    parser.add_argument("--llamaindex-worker", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--warm-worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.llamaindex_worker:
        llamaindex_worker(*args.llamaindex_worker)
        return
    if args.warm_worker:
        store, listed, runs = args.warm_worker
        print(json.dumps(warm_queries(Path(store), json.loads(Path(listed).read_text(encoding="utf-8")), int(runs))))
        return

    with tempfile.TemporaryDirectory(prefix="newsrag-bench-") as tmp:
        root = Path(tmp)
        files = materialise(root / "articles", None if args.all else args.articles)
        kb = sum(len(p.read_bytes()) for p in files) / 1024
        n = len(files)
        print(f"{n} articles, {kb:.0f} KB, from {DATA}", file=sys.stderr)
        base = run_llamaindex(root / "articles", root / "llamaindex", kb, n)
        exported = export_model()
        new = run_newsrag(root / "articles", root / "newsrag", kb, n)
        rates = {"newsrag": new.rates(), "llamaindex": base.rates()}
        import chromadb

        from index.store import open_client
        from rag.config import Settings

        for key, texts, run in (
            ("newsrag", newsrag_sentences(open_client(Settings(data_dir=root / "newsrag")), "newsrag"), new),
            ("llamaindex", stored_texts(chromadb.PersistentClient(path=str(root / "llamaindex")), "bench"), base),
        ):
            rates[key]["tokens embedded"] = tokens_embedded(texts)
            rates[key]["tokens/s"] = rates[key]["tokens embedded"] / run.seconds
        result: dict[str, Any] = {
            "articles": n, "kb": kb, "all": args.all, "newsrag": rates["newsrag"], "llamaindex": rates["llamaindex"],
            "newsrag_chunks": new.chunks, "llamaindex_chunks": base.chunks,
            "ratio": {k: rates["newsrag"][k] / v for k, v in rates["llamaindex"].items() if v},
            "runs": [asdict(new), asdict(base)], "export_s": exported,
        }

        def save() -> None:  # after each stage: a later stage that fails loses none of the earlier figures
            args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

        save()
        if args.profile:
            result["profile"] = profile_ingest(root / "articles", root / "profiled")
            save()
        questions = questions_from(files)
        if args.cold:
            result["cold_ask"] = cold_ask(root / "newsrag", questions[0], args.cold)
            save()
        if args.runs:
            result["warm"] = warm_queries(root / "newsrag", questions, args.runs)
            save()
            result["scales"] = []
            sizes = sorted(int(x) for x in args.scales.split(",") if x.strip())
            for row in scaled_queries(root / "newsrag", root, sizes, questions, args.runs):
                result["scales"].append(row)
                save()
    print(table(result))
    print(f"(all figures in {args.out})", file=sys.stderr)


if __name__ == "__main__":
    main()
