"""Tag disinformation cases and narratives with DISARM Red Framework techniques.

Two scorers, combined per technique by noisy-OR (1 − (1 − a)(1 − b)):

- **rules** (``model/disarm_rules.toml``): regular expressions (English and Russian) and
  EUvsDisinfo keywords; a match gives the rule's hand-set confidence and the matched text as
  evidence.
- **classifier**: one logistic regression per technique (one-vs-rest, classes balanced) over
  the narrative representation's surface features (words and character n-grams, Cyrillic
  transliterated), trained on the shipped example sentences (``model/disarm_examples.toml``,
  other techniques' sentences and a ``none`` class of ordinary news as negatives); its
  probability is the confidence, and the text's word that weighs most for the technique is the
  evidence.

A tag is kept when the combined confidence reaches ``min_confidence`` (0.5): strong rules tag
on their own, weak rules (confidence < 0.5) only with the classifier's support, and the
classifier alone only when fairly sure.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from hybridwatch.analyses.text_repr import analyse, normalise_text
from hybridwatch.model.disarm import Rule, disarm_framework, load_examples, load_rules


@dataclass(frozen=True)
class TechniqueTag:
    technique: str       # DISARM id, "T0022"
    name: str
    tactic: str          # "TA14"
    confidence: float    # 0–1
    evidence: str        # the text that triggered the tag
    method: str          # "rule", "classifier" or "rule+classifier"

    def to_dict(self) -> dict:
        return asdict(self)


class DisarmTagger:
    """Rules plus a classifier fitted once on the shipped examples."""

    def __init__(self, rules: list[Rule] | None = None, *, min_confidence: float = 0.5,
                 use_rules: bool = True, use_classifier: bool = True) -> None:
        self.rules = load_rules() if rules is None else rules
        self.min_confidence = min_confidence
        self.use_rules, self.use_classifier = use_rules, use_classifier
        self._fit()

    def _fit(self) -> None:
        from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
        from sklearn.linear_model import LogisticRegression
        from sklearn.multiclass import OneVsRestClassifier

        examples = load_examples()
        texts = [t for label in examples for t in examples[label]]
        labels = [label for label in examples for _ in examples[label]]
        self._vectoriser = CountVectorizer(analyzer=analyse)
        self._tfidf = TfidfTransformer(sublinear_tf=True)
        features = self._tfidf.fit_transform(self._vectoriser.fit_transform(texts))
        self._model = OneVsRestClassifier(LogisticRegression(
            C=10.0, class_weight="balanced", max_iter=2000, random_state=0))
        self._model.fit(features, labels)
        self._words = np.array([f.startswith("w:") for f in
                                self._vectoriser.get_feature_names_out()])

    def tag(self, texts: list[str], keywords: list[list[str]] | None = None
            ) -> list[list[TechniqueTag]]:
        """Tags per text, most confident first."""
        keywords = keywords or [[] for _ in texts]
        rule_hits = [self._rule_hits(t, k) if self.use_rules else {} for t, k in
                     zip(texts, keywords)]
        clf_hits = self._classify(texts) if self.use_classifier and texts else [{}] * len(texts)
        techniques = disarm_framework().techniques
        out = []
        for text_rules, text_clf in zip(rule_hits, clf_hits):
            tags = []
            for technique_id in set(text_rules) | set(text_clf):
                r, r_evidence = text_rules.get(technique_id, (0.0, ""))
                c, c_evidence = text_clf.get(technique_id, (0.0, ""))
                confidence = 1 - (1 - r) * (1 - c)
                if confidence < self.min_confidence:
                    continue
                method = "+".join(m for m, v in (("rule", r), ("classifier", c)) if v > 0)
                t = techniques[technique_id]
                tags.append(TechniqueTag(technique_id, t.name, t.tactic, round(confidence, 3),
                                         r_evidence or c_evidence, method))
            out.append(sorted(tags, key=lambda g: (-g.confidence, g.technique)))
        return out

    def _rule_hits(self, text: str, keywords: list[str]) -> dict[str, tuple[float, str]]:
        hits: dict[str, tuple[float, str]] = {}
        lowered = {k.strip().lower() for k in keywords}
        for rule in self.rules:
            evidence = next((m.group(0) for p in rule.patterns for m in [p.search(text)] if m),
                            None)
            if evidence is None:
                shared = sorted(rule.keywords & lowered)
                evidence = f"keyword: {shared[0]}" if shared else None
            if evidence is not None and rule.confidence > hits.get(rule.technique, (0, ""))[0]:
                hits[rule.technique] = (rule.confidence, evidence.strip())
        return hits

    def _classify(self, texts: list[str]) -> list[dict[str, tuple[float, str]]]:
        features = self._tfidf.transform(self._vectoriser.transform(texts))
        # each technique's own probability (OneVsRestClassifier.predict_proba would normalise
        # the row to sum to 1, as if a text could show one technique only)
        probabilities = np.column_stack([e.predict_proba(features)[:, 1]
                                         for e in self._model.estimators_])
        classes = list(self._model.classes_)
        out = []
        for row, text in enumerate(texts):
            hits = {}
            for k, label in enumerate(classes):
                if label == "none" or probabilities[row, k] < 0.2:
                    continue  # below 0.2 the classifier adds nothing a rule would notice
                hits[label] = (float(probabilities[row, k]),
                               self._evidence(features[row], k, text))
            out.append(hits)
        return out

    def _evidence(self, row, k: int, text: str) -> str:
        """The text's word that pushes most towards class ``k`` (in the text's own spelling)."""
        contribution = row.multiply(self._model.estimators_[k].coef_[0]).toarray().ravel()
        contribution[~self._words] = 0.0
        best = int(np.argmax(contribution))
        if contribution[best] <= 0:
            return text[:120]
        word = self._vectoriser.get_feature_names_out()[best][2:]
        for token in text.split():
            if word in normalise_text(token):
                return token.strip(".,;:!?«»\"'()")
        return word
