"""`minigen data ...`: look at and export the datasets and the pretraining corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from minigen.data.datasets import DATASETS
from minigen.errors import UserError

data_app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


def _parse_size(size: Optional[str]):
    """"40" -> 40 (a count), "0.5" -> 0.5 (a fraction of the default), None -> None."""
    if size is None:
        return None
    try:
        return int(size)
    except ValueError:
        pass
    try:
        return float(size)
    except ValueError:
        raise UserError(
            f"--size must be a number; got {size!r} (an int is a count, a float a fraction)"
        ) from None


@data_app.command()
def show(
    name: str = typer.Argument(..., help=f"{', '.join(DATASETS)}."),
    seed: int = typer.Option(0, help="Dataset seed."),
    lexicon_seed: int = typer.Option(0, help="Lexicon seed (which words are evaluation words)."),
    size: Optional[str] = typer.Option(None, help="An int counts the dataset's unit; a float scales it."),
    n: int = typer.Option(5, help="How many training documents and test items per split to print."),
    words: str = typer.Option("test", help="Evaluation-word slice: test (what compare reports) or dev."),
) -> None:
    """Print a readable sample of a dataset's training documents and test items (answer marked *)."""
    from minigen.data.datasets import load_dataset

    ds = load_dataset(name, seed=seed, lexicon_seed=lexicon_seed, size=_parse_size(size), words=words)
    print(f"# {ds.name} ({words} words): {len(ds.train)} training documents, {len(ds.test)} test items, "
          f"chance {ds.chance}")
    print("\n## training documents")
    for doc in ds.train[:n]:
        print(f"[{doc.id}]\n{doc.text}\n")
    for split in ds.splits():
        items = [t for t in ds.test if t.split == split]
        print(f"## test split {split!r} ({len(items)} items)")
        for item in items[:n]:
            print(f"[{item.id}] needs {', '.join(item.meta['doc_ids'][:3])}"
                  f"{' ...' if len(item.meta['doc_ids']) > 3 else ''}")
            print(item.prompt + " ...")
            for i, option in enumerate(item.options):
                mark = "*" if i in item.accepted() else ("+" if item.meta["valid"][i] else " ")
                print(f"  {mark} {option!r}")
            print()
    print("(* answer, + also valid)")


@data_app.command()
def export(
    name: str = typer.Argument(..., help="A dataset name, or `corpus` for the pretraining corpus."),
    out: Path = typer.Option(..., help="Dataset: a directory (train.jsonl, test.jsonl). Corpus: a file."),
    tokens: Optional[int] = typer.Option(None, help="corpus only: how many tokens of documents to write."),
    seed: int = typer.Option(0, help="Dataset seed, or corpus stream seed."),
    lexicon_seed: int = typer.Option(0, help="Lexicon seed (which words are evaluation words)."),
    size: Optional[str] = typer.Option(None, help="Datasets: an int counts the unit; a float scales it."),
    words: str = typer.Option("test", help="Evaluation-word slice: test (what compare reports) or dev."),
    format_: str = typer.Option("jsonl", "--format", help="Datasets: jsonl (train.jsonl, test.jsonl) or "
                                "lm-eval (lm-evaluation-harness task YAML + JSONL: --tasks minigen_NAME "
                                "--include_path OUT)."),
    icl_contexts: Optional[Path] = typer.Option(None, help="lm-eval only: the icl_contexts.jsonl `compare` "
                                                "wrote beside scores.jsonl; writes the ICL variant "
                                                "minigen_NAME_icl_seedS with compare's contexts."),
    icl_seed: int = typer.Option(0, help="lm-eval with --icl-contexts: which ICL seed's contexts."),
) -> None:
    """Export a dataset (train.jsonl, test.jsonl) or the first N tokens of the corpus (plain text)."""
    from minigen.data.export import export_corpus, export_dataset, export_lm_eval

    if format_ not in ("jsonl", "lm-eval"):
        raise UserError(f"--format {format_!r} is unknown; use jsonl or lm-eval")
    if icl_contexts is not None and format_ != "lm-eval":
        raise UserError("--icl-contexts is only for --format lm-eval")
    if name == "corpus" and format_ != "jsonl":
        raise UserError("--format lm-eval is for datasets; the corpus is written as plain text")
    if name == "corpus":
        if tokens is None or tokens < 1:
            raise UserError(f"export corpus needs --tokens N with N >= 1; got {tokens}")
        n_docs, n_tokens = export_corpus(out, tokens, seed=seed, lexicon_seed=lexicon_seed)
        print(f"wrote {n_docs} documents ({n_tokens} tokens incl. BOS/EOS) to {out}")
        return
    if tokens is not None:
        raise UserError("--tokens is only for `export corpus`; datasets are sized with --size")
    if format_ == "lm-eval":
        group, n_items = export_lm_eval(name, out, seed=seed, lexicon_seed=lexicon_seed,
                                        size=_parse_size(size), words=words, contexts=icl_contexts,
                                        context_seed=icl_seed)
        print(f"wrote lm-eval group {group} ({n_items} items) to {out}: lm_eval --model hf --model_args "
              f"pretrained=HF_DIR --tasks {group} --include_path {out}")
        return
    n_train, n_test = export_dataset(name, out, seed=seed, lexicon_seed=lexicon_seed, size=_parse_size(size),
                                     words=words)
    print(f"wrote {n_train} training documents and {n_test} test items to {out}")
