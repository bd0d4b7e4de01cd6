"""Pick the exemplars whose *procedure* is most like the question's (Ruis et al. 2024).

Models reuse procedures seen in similar worked examples, so few-shot exemplars should show the
same kind of computation. The default similarity is TF-IDF (scikit-learn) over the questions
with the surface details that do not change the procedure masked out: every number becomes
``NUM``, percentages ``NUM percent``, fractions ``FRAC``, money ``dollars``. What remains
("each", "per", "left", "percent of", "twice as many", "average") is what the procedure shows.

An embedding model can be used instead where one is installed locally
(`method="embedding:MODEL"`, through sentence-transformers); nothing is ever downloaded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .loader import Exemplar, ExemplarError

Encoder = Callable[[list[str]], Sequence[Sequence[float]]]

_FRACTION = re.compile(r"\b\d+\s*/\s*\d+\b")
_PERCENT = re.compile(r"\d+(?:\.\d+)?\s*%")
_MONEY = re.compile(r"[$€£¥]\s*\d[\d,]*(?:\.\d+)?")
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_NAME = re.compile(r"(?<=[a-z,;] )[A-Z][a-z]+")  # capitalised words mid-sentence: mostly names


def procedure_text(question: str) -> str:
    """The question with numbers, names and amounts masked so only the procedure's words remain."""
    t = _NAME.sub(" ", question)
    t = _FRACTION.sub(" FRAC ", t)
    t = _PERCENT.sub(" NUM percent ", t)
    t = _MONEY.sub(" NUM dollars ", t)
    t = _NUMBER.sub(" NUM ", t)
    return t.lower()


@dataclass
class Selection:
    """Chosen exemplars (least similar first, so the closest sits next to the question) and scores."""

    exemplars: list[Exemplar]
    scores: list[float]
    method: str


def _cosine_rank(query: Sequence[float], docs: Sequence[Sequence[float]]) -> list[float]:
    import numpy as np

    q = np.asarray(query, dtype=float)
    d = np.asarray(docs, dtype=float)
    qn = np.linalg.norm(q) or 1.0
    dn = np.linalg.norm(d, axis=1)
    dn[dn == 0] = 1.0
    return list((d @ q) / (dn * qn))


def tfidf_scores(question: str, pool: Sequence[Exemplar]) -> list[float]:
    """Cosine similarity of the question to each pool question under masked TF-IDF."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import linear_kernel

    vec = TfidfVectorizer(preprocessor=procedure_text, ngram_range=(1, 2), sublinear_tf=True,
                          token_pattern=r"(?u)\b[a-zA-Z]{2,}\b")
    docs = vec.fit_transform([ex.question for ex in pool])
    q = vec.transform([question])
    return [float(s) for s in linear_kernel(q, docs)[0]]  # rows are L2-normalised: dot = cosine


def _sentence_transformer(model_name: str) -> Encoder:
    try:
        from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found]
    except ImportError:
        raise ExemplarError("embedding selection needs the sentence-transformers package and a locally "
                            "installed model; use the default TF-IDF selection instead") from None
    try:
        model = SentenceTransformer(model_name, local_files_only=True)
    except Exception as e:  # noqa: BLE001 - any load failure is a user-facing configuration problem
        raise ExemplarError(f"embedding model {model_name!r} is not installed locally ({e})") from None
    return lambda texts: model.encode(texts)


def embedding_scores(question: str, pool: Sequence[Exemplar], encoder: Encoder) -> list[float]:
    vectors = encoder([question, *[ex.question for ex in pool]])
    return _cosine_rank(vectors[0], list(vectors[1:]))


def select(question: str, pool: Sequence[Exemplar], k: int, method: str = "tfidf",
           encoder: Encoder | None = None) -> Selection:
    """The k pool exemplars most similar to `question` (ties keep pool order).

    method: "tfidf" (default), or "embedding:MODEL" for a locally installed sentence-transformers
    model (`encoder` may be passed directly instead, e.g. in tests).
    """
    if k <= 0 or not pool:
        return Selection([], [], method)
    if method == "tfidf":
        scores = tfidf_scores(question, pool)
    elif method.startswith("embedding"):
        if encoder is None:
            _, _, name = method.partition(":")
            encoder = _sentence_transformer(name or "all-MiniLM-L6-v2")
        scores = embedding_scores(question, pool, encoder)
    else:
        raise ExemplarError(f"unknown selection method {method!r} (use tfidf or embedding:MODEL)")
    order = sorted(range(len(pool)), key=lambda i: (-scores[i], i))[:k]
    order.reverse()
    return Selection([pool[i] for i in order], [round(scores[i], 4) for i in order], method)
