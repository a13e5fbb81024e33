"""Writing datasets (train.jsonl, test.jsonl) and the corpus (plain text) to disk, byte-stable."""

from __future__ import annotations

import json
from dataclasses import asdict

from minigen.files import atomic_write_text, output_dir, output_file

# Documents in the exported corpus are separated by one blank line (documents never contain one).
CORPUS_SEPARATOR = "\n\n"


def _jsonl(rows) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def export_dataset(name: str, out, *, seed: int = 0, lexicon_seed: int = 0, size=None,
                   words: str = "test") -> tuple[int, int]:
    """Write DIR/train.jsonl ({"id", "text"}) and DIR/test.jsonl (one TestItem per line)."""
    from minigen.data.datasets import load_dataset

    out = output_dir(out)
    ds = load_dataset(name, seed=seed, lexicon_seed=lexicon_seed, size=size, words=words)
    atomic_write_text(out / "train.jsonl", _jsonl(asdict(d) for d in ds.train))
    atomic_write_text(out / "test.jsonl", _jsonl(asdict(t) for t in ds.test))
    return len(ds.train), len(ds.test)


def export_corpus(out, tokens: int, *, seed: int = 0, lexicon_seed: int = 0) -> tuple[int, int]:
    """Write the corpus stream's first documents, up to the one that reaches `tokens` tokens.

    Tokens are counted as in packing ([BOS] + text + [EOS]) with the tokenizer trained on the
    same corpus configuration.
    """
    from minigen.data.corpus import CorpusConfig, documents
    from minigen.data.tokenizer import train_tokenizer

    out = output_file(out)
    cfg = CorpusConfig(seed=seed, lexicon_seed=lexicon_seed)
    tokenizer = train_tokenizer(cfg)
    texts, total = [], 0
    for text in documents(cfg):
        texts.append(text)
        total += len(tokenizer.encode(text)) + 2
        if total >= tokens:
            break
    atomic_write_text(out, CORPUS_SEPARATOR.join(texts) + "\n")
    return len(texts), total


# lm-evaluation-harness tasks: a group `minigen_NAME` of one task per test split, each a YAML file
# and its JSONL items. The items are scored as `minigen compare` scores them: `input` (the prompt, or
# for ICL the documents of compare's context, then the prompt) and each option are one string, which
# lm-eval tokenizes jointly and splits where the input's own tokens end (minigen's split at the
# boundary whenever the input's tokens are a prefix of the joint ones, as they are for every dataset);
# no delimiter between them (target_delimiter ""); <bos> first (the exported tokenizer prepends it);
# accuracy is the argmax of the summed log-probabilities (first maximum on ties, as compare), over
# every accepted option (`gold`). An exact-match generation split (process's SPLIT-gen) is a
# `generate_until` task: greedy to the first line break, exact match on `target` with spaces ignored
# (compare's engine check parses the continuation, so it also accepts redundant parentheses).
LM_EVAL_PREFIX = "minigen_"


def lm_eval_task_name(name: str, context_seed: int | None = None) -> str:
    return f"{LM_EVAL_PREFIX}{name}" + ("" if context_seed is None else f"_icl_seed{context_seed}")


def read_contexts(path, name: str, seed: int) -> dict[str, str]:
    """{item id: context text} of dataset `name` and ICL seed `seed` from the icl_contexts.jsonl that
    `minigen compare` writes beside scores.jsonl."""
    from pathlib import Path

    from minigen.errors import UserError

    path = Path(path)
    if not path.is_file():
        raise UserError(f"--icl-contexts {path} not found; give the icl_contexts.jsonl that "
                        f"`minigen compare --conditions icl` wrote beside scores.jsonl")
    out: dict[str, str] = {}
    seeds = set()
    try:
        for line in path.read_text().splitlines():
            row = json.loads(line)
            if row["dataset"] == name:
                seeds.add(row["seed"])
                if row["seed"] == seed:
                    out.update(dict.fromkeys(row["items"], row["context"]))
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise UserError(f"--icl-contexts {path} is not a compare icl_contexts.jsonl ({type(e).__name__})") \
            from None
    if not out:
        raise UserError(f"--icl-contexts {path} has no {name!r} contexts for seed {seed} (seeds there: "
                        f"{sorted(seeds) or 'none'}); choose --icl-seed from those, or another file")
    return out


def _task_yaml(task: str, data_file, split: str) -> dict:
    return {
        "task": task, "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(data_file)}}, "test_split": "test",
        "output_type": "multiple_choice", "doc_to_text": "input", "doc_to_choice": "options",
        "doc_to_target": "gold", "target_delimiter": "", "num_fewshot": 0,
        "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True}],
        "metadata": {"version": 1, "minigen_split": split},
    }


def _generation_task_yaml(task: str, data_file, split: str, max_tokens: int) -> dict:
    spec = {k: v for k, v in _task_yaml(task, data_file, split).items() if k != "doc_to_choice"}
    return {
        **spec, "output_type": "generate_until", "doc_to_target": "target",
        "generation_kwargs": {"until": ["\n"], "do_sample": False, "max_gen_toks": max_tokens},
        "metric_list": [{"metric": "exact_match", "aggregation": "mean", "higher_is_better": True,
                         "regexes_to_ignore": [" "]}],
    }


def export_lm_eval(name: str, out, *, seed: int = 0, lexicon_seed: int = 0, size=None, words: str = "test",
                   contexts=None, context_seed: int = 0) -> tuple[str, int]:
    """Write lm-eval task files for dataset `name` into OUT: TASK.yaml (the group), TASK_SPLIT.yaml and
    TASK_SPLIT.jsonl per test split; with `contexts` (compare's icl_contexts.jsonl) the ICL variant
    of seed `context_seed`. Returns (group name, items)."""
    import yaml

    from minigen.data.datasets import load_dataset
    from minigen.errors import UserError

    ds = load_dataset(name, seed=seed, lexicon_seed=lexicon_seed, size=size, words=words)
    by_item = {} if contexts is None else read_contexts(contexts, name, context_seed)
    missing = [item.id for item in ds.test if contexts is not None and item.id not in by_item]
    if missing:
        raise UserError(f"--icl-contexts has no context for {len(missing)} of {len(ds.test)} {name} items "
                        f"(first {missing[0]}); export with compare's dataset.seed, dataset.size and "
                        f"dataset.words")
    out = output_dir(out).resolve()  # lm-eval reads the data files by absolute path
    group = lm_eval_task_name(name, None if contexts is None else context_seed)
    from minigen.data.datasets import GENERATION_MARGIN

    tasks = []
    for split in ds.splits():
        task = f"{group}_{split}"
        items = [item for item in ds.test if item.split == split]
        rows = [{"id": item.id, "split": item.split, "input": by_item.get(item.id, "") + item.prompt,
                 "options": item.options, "answer": item.answer, "gold": item.accepted()}
                for item in items]
        spec = _task_yaml(task, out / f"{task}.jsonl", split)
        if items[0].generates():
            for row in rows:
                row["target"] = row["options"][row["answer"]]
            spec = _generation_task_yaml(task, out / f"{task}.jsonl", split,
                                         max(len(r["target"]) for r in rows) + GENERATION_MARGIN)
        atomic_write_text(out / f"{task}.jsonl", _jsonl(rows))
        atomic_write_text(out / f"{task}.yaml", yaml.safe_dump(spec, sort_keys=False))
        tasks.append(task)
    atomic_write_text(out / f"{group}.yaml", yaml.safe_dump({
        "group": group, "task": tasks,
        "aggregate_metric_list": [{"metric": "acc", "aggregation": "mean", "weight_by_size": True}],
        "metadata": {"version": 1}}, sort_keys=False))
    return group, len(ds.test)
