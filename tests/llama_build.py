"""Check that llama.cpp was built without its AMX kernels, and rebuild it without them if not.

    python -m tests.llama_build          # what `make llm-setup` runs after installing the extras
    python -m tests.llama_build --cmake-args    # the CMAKE_ARGS the Makefile builds llama-cpp-python with

On CPUs with AMX, llama.cpp's AMX matrix products crash the first generation of a Q4_K model with a segmentation
fault (ggml-org/llama.cpp#20824). The Makefile builds llama-cpp-python with AMX switched off, but pip reuses a
wheel it built before (under other flags, or on another CPU) from its cache: this finds that out from llama.cpp's
own report of its features, and builds it again without the cache.
"""

from __future__ import annotations

import os
import subprocess
import sys

NO_AMX = "-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
#: What llama-cpp-python's build reads to leave AMX out (the Makefile's install and ``rebuild`` alike).
CMAKE_ARGS = f"-DCMAKE_C_FLAGS='{NO_AMX}' -DCMAKE_CXX_FLAGS='{NO_AMX}'"


def has_amx() -> bool:
    """Whether the installed llama.cpp runs AMX kernels (its system report shows ``AMX_INT8 = 1``)."""
    code = "import llama_cpp; print(llama_cpp.llama_print_system_info().decode())"
    report = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return "AMX_INT8 = 1" in report


def rebuild() -> None:
    import importlib.metadata

    version = importlib.metadata.version("llama-cpp-python")
    env = {**os.environ, "CMAKE_BUILD_PARALLEL_LEVEL": "2", "CMAKE_ARGS": CMAKE_ARGS}
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--force-reinstall", "--no-deps",
                    "--no-cache-dir", f"llama-cpp-python=={version}"], env=env, check=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--cmake-args"]:
        print(CMAKE_ARGS)
        sys.exit(0)
    if has_amx():
        print("llama.cpp was built with AMX kernels (a cached wheel?), which crash on this CPU: building it again "
              "without them (a few minutes)", file=sys.stderr)
        rebuild()
        if has_amx():
            sys.exit(f"llama.cpp still reports AMX after the rebuild: build llama-cpp-python by hand with "
                     f"CMAKE_ARGS=\"{CMAKE_ARGS}\"")
    print("llama.cpp: built without AMX kernels")
