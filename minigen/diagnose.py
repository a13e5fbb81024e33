"""Does the model retrieve from its context? Loss per role on in-context reversal lines, and whether it
copies or flips a comparative by the word's role.

    python -m minigen.diagnose runs/tiny [--docs 200] [--pool dev|test|pretrain] [--attention]

Each document is n comparison facts in the corpus's surface forms, then the canonical reversal of
one of them, "X are more ADJ than Y.", scored token by token. Every role but the first needs the
context: the subject X (which fact is asked is random: ~log n nats at best), the subject's coda
(plain induction: copy what followed the head before), the comparative (the reversal itself: a
2-way choice), the adjective (look X up, copy its dimension: 32-way) and the object Y (look X up,
copy the other word). A model that does not use its context sits at the unigram loss on the last
three; the probe only sees the comparative, so these losses show which part of the circuit is
missing. Then the copy-or-flip question (same direction and reversed) after canonical facts, by the
number of facts in context and of statements of the asked fact: a model that reads the word's role
answers both after one statement. `--attention` adds where each head looks when it answers (by token
role), for the same-direction and the reversed question. Nothing here trains; on the tiny preset it takes
seconds.
"""

from __future__ import annotations

import argparse
import math
import random
from contextlib import contextmanager

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
    starts = _token_starts(tokenizer, ids[1:])
    return ids, [(role, *_token_range(starts, a, b)) for role, a, b in spans if role]


def _token_starts(tokenizer, ids: list[int]) -> list[int]:
    """Where each token's first non-space character is in the decoded text (the corpus is ASCII: a token
    is its text); a tokenizer that glues the space to the word still gets its roles right."""
    pieces = [tokenizer.token(i) for i in ids]
    ends = [sum(map(len, pieces[: i + 1])) for i in range(len(pieces))]
    return [end - len(p.lstrip(" ")) for end, p in zip(ends, pieces, strict=True)]


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
                 facts: int | None = None, restated: int = 1, fillers: int = 0) -> dict:
    """2-way accuracy on a question after canonical comparison facts, asked about one of them in its own
    direction ("same": copy the comparative) or reversed ("reversed": flip it); the same documents and
    facts for both, scored by whole-line log-likelihood as the probe does. A model that always copies
    or always flips scores 1 on one and 0 on the other; only one that reads the word's role in the fact
    gets both. `facts`: that many facts in every context (None: facts_min..facts_max of `data_cfg`);
    `restated`: the asked fact's line stands that many times (the others once), as a reversal fact's
    articles restate it in the probe's contexts; `fillers`: that many property lines ("X have wings.")
    about other words of the pool, shuffled in, to tell a longer context from a restated fact."""
    from minigen.data.doctypes.common import canonical, random_prop
    from minigen.data.logic import reverse

    words = _pool_words(data_cfg, pool)
    rng = random.Random(seed)
    right = {"same": 0, "reversed": 0}
    model.eval()
    for _ in range(n_docs):
        doc_facts = _random_facts(rng, words, data_cfg, facts)
        fact = rng.choice(doc_facts)
        lines = [canonical(f) for f in doc_facts for _ in range(restated if f is fact else 1)]
        if fillers:
            used = {w for f in doc_facts for w in (f.a, f.b)}
            others = rng.sample([w for w in words if w not in used], fillers)
            lines += [canonical(random_prop(rng, w)) for w in others]
        if restated > 1 or fillers:
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


# The roles of a canonical comparison line's tokens, and of the question's two prompt words after it.
LINE_ROLES = ("bos", "subject", "are", "comparative", "adjective", "than", "object", "end")
ATTENTION_ROLES = (*LINE_ROLES, "q_word", "q_are")  # the question's own "A" and "are"


@contextmanager
def _attention_at_last_token(store: list):
    """While inside, every attention call appends its probabilities at the last query, (heads, keys), to
    `store` (in layer order), computed from the same queries and keys as the model's own attention."""
    import minigen.model as model_module

    attend = model_module.attend

    def spy(q, k, v, mask, seg_k, backend):
        k_full = k.repeat_interleave(q.shape[1] // k.shape[1], dim=1) if k.shape[1] != q.shape[1] else k
        scores = q[0, :, -1:] @ k_full[0].transpose(-1, -2) / math.sqrt(q.shape[-1])  # (H, 1, Tk)
        store.append(scores[:, 0].float().softmax(-1))
        return attend(q, k, v, mask, seg_k, backend)

    model_module.attend = spy
    try:
        yield
    finally:
        model_module.attend = attend


def _labelled(tokenizer, lines: list, question) -> tuple[list[int], list[str]]:
    """[BOS] + tokens of the canonical `lines` then the prompt "A are" of `question`, and each token's
    role (LINE_ROLES for the lines, q_word / q_are for the prompt)."""
    spans, text = [], ""
    for f in lines:
        comparative = " more" if f.more else " less"
        for piece, role in ((f.a, "subject"), (" are", "are"), (comparative, "comparative"),
                            (" " + f.adj, "adjective"), (" than", "than"), (" " + f.b, "object"),
                            (".\n", "end")):
            spans.append((role, len(text), len(text) + len(piece)))
            text += piece
    for piece, role in ((question.a, "q_word"), (" are", "q_are")):
        spans.append((role, len(text), len(text) + len(piece)))
        text += piece
    ids = [tokenizer.bos_id, *tokenizer.encode(text)]
    labels = ["bos"] + [next(role for role, a, b in spans if a <= c < b)
                        for c in _token_starts(tokenizer, ids[1:])]
    return ids, labels


@torch.no_grad()
def attention_by_role(model, tokenizer, data_cfg, n_docs: int = 40, pool: str = "dev", seed: int = 0,
                      restated: int = 1) -> dict:
    """Where each head looks when it must answer: attention mass, by token role, at the last prompt token
    ("A are", just before the comparative), after one canonical fact stated `restated` times, averaged
    over documents; {"same" | "reversed": tensor (layers, heads, len(ATTENTION_ROLES))}. A head that
    retrieves the fact by the asked word's role looks at different roles for the two questions."""
    from minigen.data.logic import reverse

    words = _pool_words(data_cfg, pool)
    rng = random.Random(seed)
    mass: dict = {}
    model.eval()
    device = model.embed.weight.device
    for _ in range(n_docs):
        fact = _random_facts(rng, words, data_cfg, 1)[0]
        for kind, q in (("same", fact), ("reversed", reverse(fact))):
            ids, labels = _labelled(tokenizer, [fact] * restated, q)
            store: list = []
            with _attention_at_last_token(store):
                model(torch.tensor([ids], device=device))
            probs = torch.stack(store).cpu()  # (layers, heads, keys)
            by_role = torch.stack([probs[..., [i for i, lab in enumerate(labels) if lab == role]].sum(-1)
                                   for role in ATTENTION_ROLES], dim=-1)
            mass[kind] = mass.get(kind, 0) + by_role / n_docs
    return mass


def main(argv: list[str] | None = None) -> None:
    from minigen.checkpoint import load_run
    from minigen.data.english import ADJECTIVES

    parser = argparse.ArgumentParser(prog="python -m minigen.diagnose", description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir")
    parser.add_argument("--docs", type=int, default=200)
    # dev: the evaluation words choices are made on (never compare's test words); pretrain: the corpus's
    parser.add_argument("--pool", choices=("dev", "test", "pretrain"), default="dev")
    parser.add_argument("--attention", action="store_true",
                        help="also each head's attention by token role at the answer (one fact, x1 and x3)")
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
    if args.attention:
        for restated in (1, 3):
            print_attention(attention_by_role(model, tokenizer, cfg.data, min(args.docs, 40), args.pool,
                                              restated=restated), restated)


def print_attention(mass: dict, restated: int) -> None:
    """The reversed question's attention by role per head, and how far the same-direction question's
    differs (total variation: 0 when a head looks at the same roles for both questions)."""
    print(f"attention at the answer (after \"A are\"), one fact stated x{restated}, reversed question; "
          "tv: total variation from the same-direction question's")
    print("  L H " + "".join(f"{r:>12}" for r in ATTENTION_ROLES) + f"{'tv':>12}")
    rev, tv = mass["reversed"], question_tv(mass)
    for layer in range(rev.shape[0]):
        for h in range(rev.shape[1]):
            print(f"  {layer} {h} " + "".join(f"{v:12.2f}" for v in rev[layer, h].tolist())
                  + f"{tv[layer, h].item():12.2f}")
    print("  " + most_question_dependent(mass))


def question_tv(mass: dict) -> torch.Tensor:
    """(layers, heads): each head's total variation between its attention by role for the reversed and
    the same-direction question (0: it looks at the same roles for both)."""
    return 0.5 * (mass["reversed"] - mass["same"]).abs().sum(-1)


def most_question_dependent(mass: dict) -> str:
    """One line: the head whose attention differs most between the two questions (largest tv) and the
    role each question draws it to most."""
    rev, same, tv = mass["reversed"], mass["same"], question_tv(mass)
    layer, h = divmod(int(tv.argmax()), tv.shape[1])
    top = {kind: (ATTENTION_ROLES[int(m[layer, h].argmax())], m[layer, h].max().item())
           for kind, m in (("reversed", rev), ("same", same))}
    return (f"most question-dependent head: {layer}.{h} (tv {tv[layer, h].item():.2f}): reversed looks at "
            f"{top['reversed'][0]} {top['reversed'][1]:.2f}, same direction at {top['same'][0]} "
            f"{top['same'][1]:.2f}")


if __name__ == "__main__":
    main()
