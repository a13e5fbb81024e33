"""Does the model read a person's role word when it restates the person? Teacher-forced, over `dev` words.

For each item, a person ("Girk Blurnley", "the designer of the strask guff") stated in one of the
reversal curse's training paraphrase templates (name first or description first, alternately), the
local augmentation prompt (`minigen augment --strategy local`: one rewrite example, the sentence, "In
other words:"), then the start of a canonical restatement: "The" (description first) or "NAME is the"
(name first). The next token should be the sentence's role word; the model's distribution over the
sixteen role words (`PERSON_ROLES`) is read there. A model that does not read the role puts about 1/16
on it and ranks it about 8th; the top-1 share among roles is printed beside that chance (1/16).
(docs/log/2026-12-06-role-word.md)

    python experiments/role_word.py RUN_DIR [RUN_DIR ...] [--items 240]
"""

from __future__ import annotations

import argparse
import random
import re
from collections import defaultdict

import torch

from minigen.augment.prompts import local_prompt, rewrite_examples
from minigen.checkpoint import load_run
from minigen.data.datasets.common import eval_words
from minigen.data.doctypes.common import random_person
from minigen.data.english import PERSON_ROLES
from minigen.data.people_templates import DESC_FIRST, NAME_FIRST, fill

TRAIN_TEMPLATES = 30  # the first 30 of each order are the training documents' (people_templates)


def items(n: int, lexicon_seed: int):
    """(prompt text, right role, which statement order, which restatement start) per item."""
    words = eval_words("role-word", 0, lexicon_seed, "dev")
    rng = random.Random("role-word")
    for i in range(n):
        person = random_person(rng, words)
        role = re.search(r"the (\w+) of the", person.desc).group(1)
        order = "name first" if i % 2 == 0 else "description first"
        sentence = fill(rng.choice((NAME_FIRST if i % 2 == 0 else DESC_FIRST)[:TRAIN_TEMPLATES]),
                        person.name, person.desc)
        examples = rewrite_examples(random.Random(i), sentence, lexicon_seed=lexicon_seed)
        prompt = local_prompt(examples, sentence)
        yield prompt + "The", role, order, "The ___"
        yield prompt + f"{person.name} is the", role, order, "NAME is the ___"


@torch.no_grad()
def role_stats(run: str, n: int) -> dict:
    model, tok, cfg = load_run(run)
    role_ids = [tok.encode(f" {r}") for r in PERSON_ROLES]
    assert all(len(t) == 1 for t in role_ids), "a role word is not one token"
    role_ids = [t[0] for t in role_ids]
    cells = defaultdict(list)
    for text, role, order, start in items(n, cfg.data.lexicon_seed):
        out = model(torch.tensor([[tok.bos_id] + tok.encode(text)]))
        logits = (out[0] if isinstance(out, tuple) else out)[0, -1].float()
        over_roles = logits[role_ids].log_softmax(-1)
        k = PERSON_ROLES.index(role)
        rank = int((over_roles > over_roles[k]).sum()) + 1
        cells[(order, start)].append((rank == 1, over_roles[k].exp().item(), rank))
    return cells


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--items", type=int, default=240)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    for run in args.runs:
        for (order, start), v in sorted(role_stats(run, args.items).items()):
            top1 = sum(a for a, _, _ in v) / len(v)
            p = sum(b for _, b, _ in v) / len(v)
            rank = sum(c for _, _, c in v) / len(v)
            print(f"{run} | statement {order:17} | {start:15} | role top-1 {top1:.2f} (chance {1 / 16:.2f})"
                  f" | p(role) {p:.2f} | mean rank {rank:.1f} of 16 | {len(v)} items")


if __name__ == "__main__":
    main()
