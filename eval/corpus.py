"""Eval corpora: a library of articles, loaded beside the seeds as a user's would be, and its question sets.

    corpus = load_corpus("politics25")              # eval/sets/politics25/manifest.json
    folder = materialise(corpus, data_root, dest)   # its articles as files, read from ../shared/data
    items = corpus.items()                          # every question of its sets

A corpus is a folder under ``eval/sets/`` holding a ``manifest.json`` and its question files. The manifest
names where each article comes from (a row of a CSV file or a page file under the data root, never a copy:
the data is not ours to ship), who wrote each question set, as whom, when, and whether anything was fitted
on it. ``role`` says how a corpus may be used: ``dev`` corpora are tuned and fitted on; ``validation`` corpora
judge every answering change beside the dev corpora's leave-one-corpus-out figures, and are never fitted on (more
corpora in the fit were measured not to help: docs/answering.md); the ``test`` corpus is only reported, and the
``regression`` corpus (the seeds) guards what already worked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from eval.run import QAItem, load_qa
from rag.errors import NewsragError, NotFoundError

SETS_DIR = Path(__file__).resolve().parent / "sets"
#: Where the articles of the data corpora are read from when nothing else is said: the workplace's shared data.
DEFAULT_DATA_ROOT = Path(__file__).resolve().parent.parent.parent / "shared" / "data"

Role = Literal["dev", "validation", "test", "regression"]


class MissingDataError(NewsragError):
    """The articles a corpus is built from are not on this machine."""


@dataclass(frozen=True)
class ArticleSource:
    """One article of a corpus: row ``row`` (counted from 1) of a CSV file, or a whole file, under the data root."""

    doc: str
    source: str
    row: int | None = None

    @property
    def file_name(self) -> str:
        """The name the article is ingested under: its ``doc`` (what evidence names) and its format's ending.

        >>> ArticleSource("p05", "html-pages/pages/p05.html").file_name, ArticleSource("x-0003", "x.csv", 3).file_name
        ('p05.html', 'x-0003.txt')
        """
        suffix = ".txt" if self.row is not None else Path(self.source).suffix
        return f"{self.doc}{suffix}"


@dataclass(frozen=True)
class QuestionSet:
    file: str
    persona: str
    author: str
    written: str
    #: Whether anything (a rule, a weight, a threshold) was fitted on these questions.
    fitting: bool
    use: str = ""


@dataclass(frozen=True)
class Corpus:
    name: str
    role: Role
    description: str
    folder: Path
    sets: tuple[QuestionSet, ...]
    #: ``None`` for the seeds corpus, whose articles are the project's own ``seeds/``.
    articles: tuple[ArticleSource, ...] | None = None

    def items(self, sets: tuple[str, ...] = ()) -> list[QAItem]:
        """The questions of the corpus's sets (or of the named ones). With several sets, each id is prefixed with
        its set's name ("007/q3"), since sets number their questions independently."""
        chosen = [s for s in self.sets if not sets or s.file in sets or Path(s.file).stem in sets]
        if sets and not chosen:
            raise NotFoundError(f"Corpus {self.name!r} has no set {', '.join(sets)}; "
                                f"its sets: {', '.join(s.file for s in self.sets[:8])}…")
        out: list[QAItem] = []
        for qs in chosen:
            items = load_qa(self.folder / qs.file)
            if len(chosen) > 1:
                stem = Path(qs.file).stem
                items = [QAItem(f"{stem}/{i.id}", i.type, i.question, i.answers, i.evidence, i.history) for i in items]
            out.extend(items)
        return out


def _set(obj: dict) -> QuestionSet:
    return QuestionSet(file=obj["file"], persona=obj["persona"], author=obj["author"], written=obj["written"],
                       fitting=bool(obj["fitting"]), use=obj.get("use", ""))


def load_corpus(name: str, sets_dir: Path = SETS_DIR) -> Corpus:
    """The corpus described by ``<sets_dir>/<name>/manifest.json``; ``NotFoundError`` naming the ones there are."""
    path = sets_dir / name / "manifest.json"
    if not path.is_file():
        raise NotFoundError(f"No eval corpus {name!r}; there are: {', '.join(corpus_names(sets_dir)) or 'none'}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        articles = data["articles"]
        return Corpus(
            name=data["name"], role=data["role"], description=data["description"], folder=path.parent,
            sets=tuple(_set(s) for s in data["sets"]),
            articles=None if isinstance(articles, str) else tuple(
                ArticleSource(a["doc"], a["from"], a.get("row")) for a in articles),
        )
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise NewsragError(f"{path}: not a corpus manifest ({exc!r})") from None


def corpus_names(sets_dir: Path = SETS_DIR) -> list[str]:
    """Every corpus: the seeds first, then the dev and validation corpora, the test corpus last."""
    names = [p.parent.name for p in sorted(sets_dir.glob("*/manifest.json"))]
    order = {"regression": 0, "dev": 1, "validation": 2, "test": 3}
    return sorted(names, key=lambda n: (order.get(load_corpus(n, sets_dir).role, 1), n))


def missing_data(corpus: Corpus, data_root: Path) -> str | None:
    """Why the corpus's articles cannot be read (one line), or ``None`` when they all can."""
    if corpus.articles is None:
        return None
    absent = sorted({a.source for a in corpus.articles if not (data_root / a.source).is_file()})
    if absent:
        return (f"corpus {corpus.name}: {len(absent)} source file(s) missing under {data_root} "
                f"({', '.join(absent[:3])}); skipped")
    return None


def materialise(corpus: Corpus, data_root: Path, dest: Path) -> Path:
    """Write the corpus's articles into ``dest`` (as ``ArticleSource.file_name``) and return ``dest``. A file
    already holding the same bytes is left alone, so an ingested copy stays unchanged; files that are no longer
    part of the corpus are removed. ``MissingDataError`` when the data is not here."""
    from eval.distractors import read_csv

    if corpus.articles is None:
        raise NewsragError(f"corpus {corpus.name} is the project's own seeds/, nothing to materialise")
    if message := missing_data(corpus, data_root):
        raise MissingDataError(message)
    dest.mkdir(parents=True, exist_ok=True)
    rows: dict[str, dict[int, str]] = {}
    for source in sorted({a.source for a in corpus.articles if a.row is not None}):
        docs, _ = read_csv(data_root / source)
        rows[source] = {int(d.name.rsplit("-", 1)[1].removesuffix(".txt")): d.text for d in docs}
    wanted: set[str] = set()
    for a in corpus.articles:
        if a.row is not None:
            if a.row not in rows[a.source]:
                raise MissingDataError(f"corpus {corpus.name}: {a.source} has no text in row {a.row}")
            data = rows[a.source][a.row].encode("utf-8")
        else:
            data = (data_root / a.source).read_bytes()
        target = dest / a.file_name
        wanted.add(target.name)
        if not target.is_file() or target.read_bytes() != data:
            target.write_bytes(data)
    for stale in dest.iterdir():
        if stale.is_file() and stale.name not in wanted:
            stale.unlink()
    return dest
