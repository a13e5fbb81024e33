"""Does the model retrieve from its context? Loss per role on in-context reversal lines, and whether it
copies or flips a comparative by the word's role.

    python -m minigen.diagnose runs/tiny [--docs 200] [--pool dev|test|pretrain]

Each document is n comparison facts in the corpus's surface forms, then the canonical reversal of
one of them, "X are more ADJ than Y.", scored token by token. Every role but the first needs the
context: the subject X (which fact is asked is random: ~log n nats at best), the subject's coda
(plain induction: copy what followed the head before), the comparative (the reversal itself: a
2-way choice), the adjective (look X up, copy its dimension: 32-way) and the object Y (look X up,
copy the other word). A model that does not use its context sits at the unigram loss on the last
three; the probe only sees the comparative, so these losses show which part of the circuit is
missing. Then the copy-or-flip question (same direction and reversed) after canonical facts, by the
number of facts in context and of statements of the asked fact: a model that reads the word's role
answers both after one statement. Nothing here trains; on the tiny preset it takes seconds.
"""

from __future__ import annotations

import argparse
import math
import random

import torch

from minigen.inference import score_shared

ROLES = ("subject_head", "subject_coda", "comparative", "adjective", "object_head", "object_coda")


def _line_parts(fact) -> list[tuple[str, str]]:
    """(text, role) pieces of the canonical reversal line of `fact`, in order."""
    from minigen.data.lexicon import split_word
    from minigen.data.logic import reverse

    r = reverse(fact)
    head, coda = split_word(r.a)
    ohead, ocoda = split_word(r.b)
    return [(head, "subject_head"), (coda, "subject_coda"), (" are", ""),
            (" more" if r.more else " less", "comparative"), (" " + r.adj, "adjective"), (" than", ""),
            (" ", ""), (ohead, "object_head"), (ocoda, "object_coda"), (".", "")]


def _token_range(starts: list[int], a: int, b: int) -> tuple[int, int]:
    """Indices (into [BOS] + tokens) of the tokens that start within characters [a, b)."""
    inside = [i + 1 for i, c in enumerate(starts) if a <= c < b]
    return inside[0], inside[-1] + 1


def tokens_with_roles(tokenizer, context: str, fact) -> tuple[list[int], list[tuple[str, int, int]]]:
    """[BOS] + tokens of context + the fact's reversal line, and (role, start, end) token ranges."""
    spans, text = [], context
    for piece, role in _line_parts(fact):
        spans.append((role, len(text), len(text) + len(piece)))
        text += piece
    ids = [tokenizer.bos_id, *tokenizer.encode(text)]
    # Where each token's first non-space character is (the corpus is ASCII: a token is its text);
    # a tokenizer that glues the space to the word still gets its roles right.
    pieces = [tokenizer.token(i) for i in ids[1:]]
    ends = [sum(map(len, pieces[: i + 1])) for i in range(len(pieces))]
    starts = [end - len(p.lstrip(" ")) for end, p in zip(ends, pieces, strict=True)]
    return ids, [(role, *_token_range(starts, a, b)) for role, a, b in spans if role]


def _pool_words(data_cfg, pool: str) -> list[str]:
    from minigen.data.lexicon import Lexicon

    lex = Lexicon(data_cfg.lexicon_seed)
    return lex.pretrain_words if pool == "pretrain" else lex.words(pool)


def _random_facts(rng: random.Random, words: list[str], data_cfg, n: int | None = None) -> list:
    """n (None: facts_min..facts_max) comparison facts over distinct words."""
    from minigen.data.doctypes.common import random_compare

    n = rng.randint(data_cfg.facts_min, data_cfg.facts_max) if n is None else n
    pool_words = rng.sample(words, 2 * n)
    return [random_compare(rng, pool_words[2 * i], pool_words[2 * i + 1]) for i in range(n)]


@torch.no_grad()
def role_losses(model, tokenizer, data_cfg, n_docs: int = 200, pool: str = "dev", seed: int = 0) -> dict:
    """Mean loss (nats) of each role's tokens, and the comparative's 2-way accuracy."""
    from minigen.data.doctypes.common import fact_line

    words = _pool_words(data_cfg, pool)
    rng = random.Random(seed)
    total = {r: 0.0 for r in ROLES}
    count = {r: 0 for r in ROLES}
    right = 0
    model.eval()
    for _ in range(n_docs):
        facts = _random_facts(rng, words, data_cfg)
        text = "\n".join(fact_line(f, rng, data_cfg) for f in facts) + "\n"
        ids, spans = tokens_with_roles(tokenizer, text, rng.choice(facts))
        logp = model(torch.tensor([ids], device=model.embed.weight.device))[0][0].float().log_softmax(-1)
        for role, start, end in spans:
            total[role] += -sum(logp[i - 1, ids[i]].item() for i in range(start, end))
            count[role] += 1
            if role == "comparative":
                flip = tokenizer.encode(" less" if tokenizer.decode(ids[start:end]) == " more" else " more")
                right += int(logp[start - 1, ids[start]] > logp[start - 1, flip[0]])
    out = {r: total[r] / max(1, count[r]) for r in ROLES}
    out["comparative_acc"] = right / n_docs
    return out


@torch.no_grad()
def copy_or_flip(model, tokenizer, data_cfg, n_docs: int = 200, pool: str = "dev", seed: int = 0,
                 facts: int | None = None, restated: int = 1) -> dict:
    """2-way accuracy on a question after canonical comparison facts, asked about one of them in its own
    direction ("same": copy the comparative) or reversed ("reversed": flip it); the same documents and
    facts for both, scored by whole-line log-likelihood as the probe does. A model that always copies
    or always flips scores 1 on one and 0 on the other; only one that reads the word's role in the fact
    gets both. `facts`: that many facts in every context (None: facts_min..facts_max of `data_cfg`);
    `restated`: the asked fact's line stands that many times (the others once), as a reversal fact's
    articles restate it in the probe's contexts."""
    from minigen.data.doctypes.common import canonical
    from minigen.data.logic import reverse

    words = _pool_words(data_cfg, pool)
    rng = random.Random(seed)
    right = {"same": 0, "reversed": 0}
    model.eval()
    for _ in range(n_docs):
        doc_facts = _random_facts(rng, words, data_cfg, facts)
        fact = rng.choice(doc_facts)
        lines = [canonical(f) for f in doc_facts for _ in range(restated if f is fact else 1)]
        if restated > 1:
            rng.shuffle(lines)
        context = "\n".join(lines) + "\n"
        for kind, q in (("same", fact), ("reversed", reverse(fact))):
            right[kind] += int(prefers_comparative(model, tokenizer, context, q))
    return {kind: r / n_docs for kind, r in right.items()}


# (facts in context, statements of the asked fact): does the reversal need the fact restated, as the
# probe's contexts restate it (a reversal fact's 10 articles), or does it follow from one statement?
RESTATEMENT_GRID = ((1, 1), (1, 3), (1, 10), (3, 1), (3, 3), (5, 10))


@torch.no_grad()
def prefers_comparative(model, tokenizer, context: str, q) -> bool:
    """After `context`, does the model's log-likelihood prefer comparison `q`'s line to the same line with
    the other comparative? The prompt is "A are"; each option's line goes on from there."""
    from minigen.data.doctypes.common import canonical
    from minigen.data.logic import Compare
    from minigen.eval.scoring import split_at_boundary

    head = q.a + " are"
    splits = [split_at_boundary(tokenizer, context + head, canonical(option)[len(head):])
              for option in (q, Compare(q.a, q.adj, not q.more, q.b))]
    prompt = [tokenizer.bos_id, *splits[0][0]]
    good, bad = (sum(lp) for lp in score_shared(model, prompt, [cont for _, cont in splits]))
    return good > bad


def main(argv: list[str] | None = None) -> None:
    from minigen.checkpoint import load_run
    from minigen.data.english import ADJECTIVES

    parser = argparse.ArgumentParser(prog="python -m minigen.diagnose", description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir")
    parser.add_argument("--docs", type=int, default=200)
    # dev: the evaluation words choices are made on (never compare's test words); pretrain: the corpus's
    parser.add_argument("--pool", choices=("dev", "test", "pretrain"), default="dev")
    args = parser.parse_args(argv)
    model, tokenizer, cfg = load_run(args.run_dir)
    out = role_losses(model, tokenizer, cfg.data, args.docs, args.pool)
    print(f"in-context reversal lines, {args.docs} documents, {args.pool} words (loss in nats per role)")
    for role in ROLES:
        print(f"  {role:<14} {out[role]:6.2f}")
    n_dims = len(ADJECTIVES)
    print(f"  comparative 2-way accuracy {out['comparative_acc']:.2f} (chance .50); a uniform guess "
          f"over the {n_dims} adjectives costs {math.log(n_dims):.2f} nats")
    acc = copy_or_flip(model, tokenizer, cfg.data, args.docs, args.pool)
    print(f"question about a fact, canonical facts in context: same direction {acc['same']:.2f}, reversed "
          f"{acc['reversed']:.2f} (2-way, chance .50; always copying or always flipping sums to 1)")
    print("the same question by facts in context and statements of the asked fact (others stated once):")
    for facts, restated in RESTATEMENT_GRID:
        acc = copy_or_flip(model, tokenizer, cfg.data, args.docs, args.pool, facts=facts, restated=restated)
        print(f"  {facts} fact{'s' if facts > 1 else ' '}, asked one x{restated:<2}  same {acc['same']:.2f}"
              f"  reversed {acc['reversed']:.2f}")


if __name__ == "__main__":
    main()
