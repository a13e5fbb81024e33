"""Prompts in the formats the pretraining corpus taught, and the reading of what the model wrote back.

Local (the corpus's rewrite documents): "STATEMENT\\nIn other words:\\nRESTATEMENT\\n..." repeated;
the prompt is `aug.examples` such examples (one by default) over pretraining-pool words, then the
training sentence and the label. Global (the corpus's inference documents):
"FACT\\n...\\nIt follows that:\\nDERIVED\\n..."; the prompt is a sample of training documents, the
document itself last, then the header; or (`aug.global_prompt=question`) the syllogism documents' own
question about each pair of the document's words that no statement links, its answer line the inference.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache

from minigen.augment.facts import parse_statement
from minigen.data.corpus import CorpusConfig
from minigen.data.doctypes import rewrite
from minigen.data.lexicon import Lexicon
from minigen.data.logic import Quant
from minigen.data.templates import INFERENCE_HEADER, REWRITE_LABEL, english_vocabulary, syllogism_prompt
from minigen.eval.options import AUG_EXAMPLES


@lru_cache(maxsize=2)
def _pretrain_words(lexicon_seed: int) -> list[str]:
    return Lexicon(lexicon_seed).pretrain_words


def rewrite_examples(rng: random.Random, like: str | None, k: int = AUG_EXAMPLES,
                     lexicon_seed: int = 0) -> list[str]:
    """`k` rewrite blocks ("statement\\nIn other words:\\n...") over pretraining-pool words, taken
    from the corpus's own rewrite documents; at least one restates a statement of the same kind
    (comparison, quantifier, ...) as `like` when the corpus offers one within a few tries."""
    words = _pretrain_words(lexicon_seed)
    want = type(parse_statement(like)) if like else None
    blocks: list[str] = []
    same: list[str] = []
    for _ in range(40):
        for block in rewrite_blocks(rewrite.generate(rng, words, CorpusConfig())):
            (same if want is not None and type(parse_statement(block.split("\n")[0])) is want
             else blocks).append(block)
        if len(blocks) + len(same) >= k and (same or want is None):
            break
    chosen = same[:1] + blocks
    chosen = chosen[:k] if len(chosen) >= k else (chosen + same[1:])[:k]
    rng.shuffle(chosen)
    return chosen


def rewrite_blocks(text: str) -> list[str]:
    """Split a rewrite document into its blocks (a block starts at the line before each label)."""
    lines = text.split("\n")
    starts = [i - 1 for i, line in enumerate(lines) if line == REWRITE_LABEL and i > 0]
    return ["\n".join(lines[a:b]) for a, b in zip(starts, starts[1:] + [len(lines)], strict=True)]


def local_prompt(examples: list[str], sentence: str) -> str:
    return "\n".join([*examples, sentence, REWRITE_LABEL]) + "\n"


def global_prompt(context_texts: list[str], document: str) -> str:
    return "\n".join([*context_texts, document, INFERENCE_HEADER]) + "\n"


def question_prompt(context_texts: list[str], document: str, first: str, second: str) -> str:
    """The global prompt in the syllogism documents' own format: the document, then the corpus's question
    about two of its words ("Question: what follows about X and Y?\nAnswer:")."""
    return "\n".join([*context_texts, document, syllogism_prompt(first, second)])


def end_term_pairs(document: str) -> list[tuple[str, str]]:
    """Pairs of words of a document's quantified statements ("All X are Y") that no one statement
    links: what a syllogism over its premises concludes about (by the statements' shape only, never by
    the logic engine). Sorted; none for a document of one statement."""
    terms = [{form.s, form.p} for line in document.split("\n")
             if isinstance(form := parse_statement(line), Quant)]
    words = sorted(set().union(*terms)) if terms else []
    return [(a, b) for i, a in enumerate(words) for b in words[i + 1:]
            if not any({a, b} <= t for t in terms)]


_WORD = re.compile(r"[A-Za-z]+")


def content_words(text: str) -> set[str]:
    """The nonsense words of a text (lowercased): what links one document to another."""
    english = english_vocabulary()
    return {w.lower() for w in _WORD.findall(text) if w not in english and w.lower() not in english}


def complete_lines(text: str, ended: bool) -> list[str]:
    """The finished lines of a generation: a last line cut by the token limit is dropped."""
    lines = text.split("\n")
    if not ended:
        lines = lines[:-1]
    return [line.strip() for line in lines if line.strip()]


def local_outputs(text: str, ended: bool) -> list[str]:
    """Restatements up to the point where the model starts a new rewrite block of its own: the line
    before a label is that block's statement, also when the token limit cut the label short ("In
    other wo"; "In" alone could begin a restatement, so it does not count)."""
    lines = complete_lines(text, ended)
    if REWRITE_LABEL in lines:
        return lines[: max(0, lines.index(REWRITE_LABEL) - 1)]
    cut = text.split("\n")[-1].strip()
    if not ended and len(cut) > len("In ") and REWRITE_LABEL.startswith(cut):
        return lines[:-1]
    return lines


def answer_outputs(text: str, ended: bool) -> list[str]:
    """A question prompt's answer: the first finished line only (the model may go on to ask another)."""
    return complete_lines(text, ended)[:1]


def global_outputs(text: str, ended: bool) -> list[str]:
    """Derived statements; a repeated header (the model starting over) ends the list."""
    lines = complete_lines(text, ended)
    if INFERENCE_HEADER in lines:
        lines = lines[: lines.index(INFERENCE_HEADER)]
    return lines


class ContextSampler:
    """For global prompts: which other training documents go into a document's context.

    Documents sharing a nonsense word with it come first (they are what an inference can link it
    to), up to half of the token budget; random other documents fill the rest. Order is shuffled.
    """

    def __init__(self, documents: list, tokenizer):
        self.documents = documents
        self.cost = [len(tokenizer.encode(d.text)) + 1 for d in documents]  # +1: the "\n" after it
        self.words = [content_words(d.text) for d in documents]
        self.by_word: dict[str, list[int]] = {}
        for i, ws in enumerate(self.words):
            for w in ws:
                self.by_word.setdefault(w, []).append(i)

    def sample(self, index: int, budget: int, rng: random.Random) -> list[int]:
        """Indices of context documents for document `index`, within `budget` tokens."""
        related = sorted({j for w in self.words[index] for j in self.by_word[w]} - {index})
        rng.shuffle(related)
        chosen: list[int] = []
        used = 0
        for j in related:
            if used + self.cost[j] > budget // 2:
                break
            chosen.append(j)
            used += self.cost[j]
        taken = set(chosen) | {index}
        misses = 0
        while used < budget and len(taken) < len(self.documents) and misses < 64:
            j = rng.randrange(len(self.documents))  # random probing: no O(N) shuffle per prompt
            if j in taken or used + self.cost[j] > budget:
                misses += 1
                continue
            taken.add(j)
            chosen.append(j)
            used += self.cost[j]
            misses = 0
        rng.shuffle(chosen)
        return chosen
