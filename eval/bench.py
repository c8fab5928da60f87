"""Latency benchmark: warm retrieval + answer over the eval questions, and the cold start of `newsrag ask`.

    .venv/bin/python -m eval.bench [--runs 5] [--cold 3]

Figures are measured, never asserted: these machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="passes over the eval questions (warm)")
    parser.add_argument("--cold", type=int, default=3, help="cold `newsrag ask` processes")
    args = parser.parse_args()

    from eval.run import DEFAULT_QA, load_qa
    from rag.config import Settings
    from rag.pipeline import Pipeline

    items = load_qa(DEFAULT_QA)
    with tempfile.TemporaryDirectory() as tmp:
        pipeline = Pipeline(Settings(data_dir=Path(tmp)))
        pipeline.ensure_seeds()
        pipeline.warm_up()  # model, Chroma, BM25, llama-index, word lists
        warm: list[float] = []
        for _ in range(args.runs):
            for item in items:
                history = list(item.history)  # a follow-up is timed as the chat asks it: previous answer at hand
                previous = pipeline.previous_answer(history) if history else None
                pipeline.embed_query.cache_clear()  # time real work, not the repeated-query cache
                t0 = time.perf_counter()
                pipeline.ask(item.question, history=history, previous=previous)
                warm.append((time.perf_counter() - t0) * 1e3)
        print(f"warm ask (query embedding + retrieve + answer + verify), {len(warm)} questions on the seeds: "
              f"median {statistics.median(warm):.1f} ms, p95 {percentile(warm, 0.95):.1f} ms, "
              f"max {max(warm):.1f} ms")

        cold: list[float] = []
        newsrag = str(Path(sys.executable).with_name("newsrag"))
        for _ in range(args.cold):
            t0 = time.perf_counter()
            subprocess.run([newsrag, "--data-dir", tmp, "ask", "--json", "What did Lavrov say in Manila?"],
                           check=True, capture_output=True)
            cold.append(time.perf_counter() - t0)
        print(f"cold `newsrag ask` (new process, store already built), {len(cold)} runs: "
              f"median {statistics.median(cold):.2f} s, min {min(cold):.2f} s")


if __name__ == "__main__":
    main()
