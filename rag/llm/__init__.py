"""Generative answers from the user's own LLM: backends (``backends``), the prompt and the reading of its reply
(``prompt``), and streaming (``stream``). Every generated sentence is checked by ``rag.verify``."""
