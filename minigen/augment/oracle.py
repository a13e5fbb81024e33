"""Oracle augmentations: what the logic engine derives, written in the templates (valid by construction).

`oracle_local`: a training sentence's restatements (`templates.restatements`, the rules the corpus's
rewrite documents teach), its own wording left out: the oracle of *local* augmentation.
`linked_inferences(...)`: statements the engine derives from the whole training set that mention a
term of the document and are not stated in training: the oracle of *global* augmentation.
"""

from __future__ import annotations

import random

from minigen.augment.facts import TrainingFacts, directed_key, terms
from minigen.data.logic import Form, Quant
from minigen.data.templates import restatements, sentence_variants

PER_TRACE = 5  # derived statements per trace, as in the corpus's inference documents


def oracle_local(sentence: str, form: Form, rng: random.Random) -> list[str]:
    """Restatements of a training sentence, the sentence's own wording left out, in a seeded order."""
    own = sentence.strip().rstrip(".?").lower()
    out = [s for s in restatements(form) if s.rstrip(".").lower() != own]
    rng.shuffle(out)
    return out


class LinkedInferences:
    """Per document, the engine's derived statements that link it to the rest of the training set.

    A candidate is a derived statement written in an order (directed key) no training sentence
    uses: a new fact, or a known one in its never-trained order ("femp are eaten by glon"). A
    particular statement ("some") is kept only when no universal one about the same pair is derived
    (else it says less than what it follows from) or when it is the converse of a stated "all".
    """

    def __init__(self, training: TrainingFacts):
        derived = training.knowledge.derived
        stated = set(training.forms)
        self.by_term: dict[str, list[str]] = {}
        for f in sorted(derived, key=repr):
            if isinstance(f, Quant) and f.q == "some":
                converse = Quant("all", f.p, f.s) in stated
                weaker = Quant("all", f.s, f.p) in derived or Quant("all", f.p, f.s) in derived
                if weaker and not converse:
                    continue
            keys = set()
            for text in sentence_variants(f):
                key = directed_key(f, text)
                if key in training.keys or key in keys:
                    continue
                keys.add(key)
                for t in terms(f):
                    self.by_term.setdefault(t, []).append(text)

    def for_forms(self, forms: list[Form]) -> list[str]:
        """Candidates that mention a term of `forms` (a document's statements), without repeats."""
        seen: dict[str, None] = {}
        for form in forms:
            for t in terms(form):
                seen.update(dict.fromkeys(self.by_term.get(t, ())))
        return list(seen)

    def traces(self, forms: list[Form], n: int, rng: random.Random) -> list[list[str]]:
        """Up to `n` traces of up to PER_TRACE sentences, drawn without replacement."""
        linked = self.for_forms(forms)
        texts = rng.sample(linked, min(len(linked), n * PER_TRACE))
        return [texts[k: k + PER_TRACE] for k in range(0, len(texts), PER_TRACE)]
