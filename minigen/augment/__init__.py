"""Augmented finetuning: the model's own in-context inferences (or the logic engine's) as finetuning data.

- `local`: per training sentence, the model (prompted with rewrite examples over pretraining-pool
  words, in the corpus's rewrite format) samples restatements and reversals;
- `global`: per training document, the model (with a sample of the training set in context, then the
  document and the inference header) samples the inferences that link it to the rest;
- `oracle-local` / `oracle-global`: the same two kinds written by the logic engine (valid by construction);
- `placebo-local` / `placebo-global`: the oracle's statements with every evaluation word renamed to a
  pretraining word (one renaming per source document): the same number, templates and orders, no
  information about the evaluated words. A control: what finetuning on statements of that shape does
  by itself (fact datasets only).

`minigen augment` (run.py) writes them as JSONL with a report (report.py); `conditions.py` turns them
into the `aug-ft-*` conditions of `minigen compare`. The process dataset has its own format (lines
"D(expression) = answer", judged by its engine): process.py, chosen by run.py from the documents.
"""

STRATEGIES = ("local", "global", "oracle-local", "oracle-global", "placebo-local", "placebo-global")


def model_free(strategy: str) -> bool:
    """Written without the checkpoint (by the logic engine)."""
    return strategy.startswith(("oracle", "placebo"))
