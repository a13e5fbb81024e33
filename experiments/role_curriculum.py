"""Experiment: a curriculum that teaches the tiny model to answer a reversal question by the word's role.

The reversal probe needs: find the line that mentions the question's first word; if the word is that
line's subject, copy its comparative; if it is the object, flip it. Trained on reversals only, the model
flips every comparative; on restatements only, it copies; on both at once (the corpus knob
`data.same_share`) it learns neither (docs/log/2026-11-26-copy-or-flip.md). Built from parts, it
learns it (docs/log/2026-11-27-role-curriculum.md):

  phase1  from scratch: every question in ONE direction (`--mode flip`: reversals; `copy`:
          restatements), and most later facts reuse an earlier word in the other role ("confusers"),
          so only a head that finds the word in the right role answers.
  phase2  continue a checkpoint on questions of both directions (`--same-share`, no confusers), with
          `--more-share` of the documents stating only "more" facts (their answer follows from the
          word's role alone), optionally in the corpus's templates / prefixes and with facts repeated,
          and with `--syllogism-share` of the corpus's in-context syllogism documents.
  roles   copy / flip accuracy of checkpoints on fresh canonical documents over evaluation words:
          plain, with confusers, and with every fact saying "more" (300 documents each).

The documents are the corpus's own `roles` type (`minigen.data.doctypes.roles`); the `tiny-roles`
preset runs the five phases of docs/log/2026-11-27-role-curriculum.md as one `minigen pretrain`. This
script is for the variations: each phase alone, with other settings, and the `roles` check.
"""

from __future__ import annotations

import random
from pathlib import Path

import torch
import typer

from minigen.data.doctypes.roles import role_doc
from minigen.data.logic import reverse

# The dense corpus of docs/log/2026-11-26-copy-or-flip.md, with role-curriculum documents only.
DENSE = ["data.mixture=roles:1", "data.canonical_share=1", "data.prefix_prob=0", "data.facts_min=2",
         "data.facts_max=3", "data.roles.repeats_max=0"]
VARIANTS = (("", 0.0, False), (" + confusers", 1.0, False), (", 'more'", 0.0, True))  # for `roles`
app = typer.Typer(add_completion=False, no_args_is_help=True)


@app.command()
def phase1(out: Path = typer.Option(...), mode: str = "flip", cross: float = 0.8, steps: int = 750,
           same_share: float = 0.5, more_share: float = 0.0, canonical_share: float = 1.0,
           prefix_prob: float = 0.0, repeats_max: int = 0):
    """Pretrain the tiny shape from scratch on one-direction reversal documents with confusers (or, with
    --mode mix, on both directions, e.g. with --more-share 1)."""
    from minigen.pretrain import run_pretrain

    overrides = [*DENSE, f"data.roles.same_share={same_share}", f"data.canonical_share={canonical_share}",
                 f"data.prefix_prob={prefix_prob}", f"data.roles.repeats_max={repeats_max}",
                 f"data.roles.mode={mode}", f"data.roles.confusers={cross}",
                 f"data.roles.more_share={more_share}"]
    run_pretrain("tiny-mixed", out, steps, overrides=overrides, wandb_mode="disabled")


@app.command()
def phase2(init: Path = typer.Option(...), out: Path = typer.Option(...), steps: int = 1000,
           same_share: float = 0.5, lr: float | None = None, min_lr: float | None = None,
           more_share: float = 0.0, canonical_share: float | None = None, prefix_prob: float | None = None,
           repeats_max: int = 0, syllogism_share: float = 0.0, seed: int = 11, dense: bool = False):
    """Continue a checkpoint (fresh optimizer, warmup 50, cosine) on questions of both directions, and
    with --syllogism-share that share of the corpus's in-context syllogism documents. --dense: the dense
    corpus (no other document types, 2-3 facts per document), as the curriculum's checkpoints already
    have, for continuing another run, e.g. the tiny default."""
    from minigen import checkpoint as ckpt
    from minigen.checkpoint import load_run
    from minigen.files import atomic_write
    from minigen.pretrain import RowStream
    from minigen.probe import Probe
    from minigen.train import make_optimizer, train

    model, tok, cfg = load_run(init)
    mixture = {} if dense else {k: w for k, w in cfg.data.mixture.items() if k not in ("reversal", "roles")}
    cfg.data.mixture = {**mixture, "roles": 1.0 - syllogism_share, "syllogism": syllogism_share}
    roles = cfg.data.roles
    roles.mode, roles.confusers, roles.more_share, roles.same_share = "mix", 0.0, more_share, same_share
    cfg.data.seed = seed  # default 11: a stream phase 1 never saw
    if dense:
        cfg.data.facts_min, cfg.data.facts_max = 2, 3
    cfg.train.steps, cfg.train.warmup = steps, 50
    if canonical_share is not None:  # the fact lines' templates and prefixes (corpus defaults .5, .4)
        cfg.data.canonical_share = canonical_share
    if prefix_prob is not None:
        cfg.data.prefix_prob = prefix_prob
    roles.repeats_max = repeats_max
    if lr is not None:
        cfg.train.lr = lr
    if min_lr is not None:
        cfg.train.min_lr = min_lr
    torch.manual_seed(1)
    probe = Probe(cfg, tok, torch.device("cpu"))
    print("start", probe.run(model), flush=True)
    model.train()
    opt = make_optimizer(model, cfg.train)

    def report(info):
        if info.step % 250 == 0 or info.step == steps:
            print(info.step, round(info.loss or 0, 3), probe.run(model), flush=True)

    train(model, RowStream(cfg, tok, torch.device("cpu")), cfg.train, optimizer=opt, on_step=report,
          log_every=250)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / ckpt.TOKENIZER, tok.save)
    ckpt.write_config(out, cfg, {"curriculum_from": str(init)})
    ckpt.save_checkpoint(out, model, opt, steps, 0)


@app.command()
def roles(runs: list[Path], n: int = 300):
    """Copy / flip accuracy (log-likelihood after "A are", right vs. flipped comparative) on canonical
    documents of 2-3 facts over evaluation words: plain, with confusers, and with every fact saying "more"
    (a chance-level model: .5)."""
    from minigen.checkpoint import load_run
    from minigen.data.lexicon import Lexicon
    from minigen.diagnose import prefers_comparative

    for run in runs:
        model, tok, cfg = load_run(run)
        model.eval()
        words = Lexicon(cfg.data.lexicon_seed).eval_words
        out = {}
        for mode in ("copy", "flip"):
            for label, cross, more_only in VARIANTS:
                rng, hits = random.Random(f"{mode}{cross}"), 0
                for _ in range(n):
                    text, facts, _ = role_doc(rng, words, rng.randint(2, 3), mode, cross, more_only=more_only)
                    # The first fact: with confusers, its asked word also stands in the other role.
                    q = facts[0] if mode == "copy" else reverse(facts[0])
                    hits += prefers_comparative(model, tok, text + "\n", q)
                out[mode + label] = round(hits / n, 2)
        print(run, out, flush=True)


if __name__ == "__main__":
    app()
