"""The corpus's document types: one module each, with its generator and (if it has knobs) its config.

A type is registered here once: its name (the key of the corpus mixture, `data.mixture.NAME`), its
generator `generate(rng, words, cfg) -> text` over pretraining-pool words (`cfg`: the whole
`CorpusConfig`; the type's own knobs are the section of that name, `cfg.NAME`), the dataclass of that
section, and whether it is an in-context inference document (what the corpus ablation scales).

In-context documents use exactly the ICL layout of the evaluation: statements one per line, then
derived statements / question + answer in the formats the test prompts use. That is what teaches the
skill (reversal, syllogism) that is later tested on new (evaluation-pool) words. Generation is plain
Python, kept lean: it runs at hundreds of thousands of tokens/s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from minigen.data.doctypes import (
    facts,
    inference,
    keyval,
    lists,
    people,
    process,
    qa,
    recall,
    reversal,
    rewrite,
    roles,
    syllogism,
    world,
)


@dataclass(frozen=True)
class DocType:
    generate: Callable  # (rng, words, corpus config) -> document text
    config: type | None = None  # the dataclass of the section `data.NAME`, if the type has knobs
    in_context: bool = False  # an in-context inference document (facts, then what follows from them)


# The order is the mixture's draw order (part of the stream: do not reorder).
DOC_TYPES: dict[str, DocType] = {
    "reversal": DocType(reversal.generate, reversal.ReversalDocs, in_context=True),
    "syllogism": DocType(syllogism.generate, syllogism.SyllogismDocs, in_context=True),
    "world": DocType(world.generate, in_context=True),
    "people": DocType(people.generate, in_context=True),
    "facts": DocType(facts.generate),
    "rewrite": DocType(rewrite.generate, rewrite.RewriteDocs),
    "inference": DocType(inference.generate),
    "qa": DocType(qa.generate),
    "roles": DocType(roles.generate, roles.RolesDocs, in_context=True),
    # In no mixture or recipe yet (weight 0): every existing stream and the tokenizer stay as they were.
    "process": DocType(process.generate, in_context=True),
    # exact retrieval and copying (in no mixture but roles2r-recall's and roles2r-lists')
    "recall": DocType(recall.generate, recall.RecallDocs, in_context=True),
    "lists": DocType(lists.generate),
    # lookup with the key next to its value (in no mixture but the lookup recipes')
    "keyval": DocType(keyval.generate, keyval.KeyvalDocs, in_context=True),
}
