"""What the augmentations are worth: each statement annotated by the parser and the logic engine,
and the counts a researcher must see before finetuning on them.

Per statement: `form` (its logical form, or null when it does not parse), `verdict` (the engine's
"follows" / "contradicts" / "unrelated" given the training facts), `new` (its directed key — form
plus the term it names first — is not stated by any training sentence), `new_text` (the sentence
itself is not a training sentence), `answers` (ids of test items whose correct answer it states;
only items whose answer the training documents do not already state verbatim). Answers are
reported, not removed: stating them is how the method works.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from minigen.augment.facts import TestAnswers, TrainingFacts, directed_key, normalize, parse_statement
from minigen.data.logic import to_list


def annotate(record: dict, training: TrainingFacts, answers: TestAnswers) -> dict:
    text = record["text"]
    form = parse_statement(text)
    out = dict(record)
    out["new_text"] = normalize(text) not in training.texts
    if form is None:
        out.update(form=None, verdict=None, new=None, answers=[])
        return out
    key = directed_key(form, text)
    out.update(form=to_list(form), verdict=training.knowledge.classify(form), new=key not in training.keys,
               answers=list(answers.by_key.get(key, [])))
    return out


@dataclass
class Tally:
    """Running counts over annotated records (and the samples they came from)."""

    answers: TestAnswers
    generated: int = 0
    parsed: int = 0
    valid: int = 0
    contradicts: int = 0
    new: int = 0
    new_valid: int = 0
    new_text: int = 0
    states_answer: int = 0
    samples: int = 0
    empty_samples: int = 0
    answered: set = field(default_factory=set)

    def add(self, rec: dict) -> None:
        self.generated += 1
        self.new_text += bool(rec["new_text"])
        if rec["form"] is None:
            return
        self.parsed += 1
        self.valid += rec["verdict"] == "follows"
        self.contradicts += rec["verdict"] == "contradicts"
        self.new += bool(rec["new"])
        self.new_valid += bool(rec["new"]) and rec["verdict"] == "follows"
        self.states_answer += bool(rec["answers"])
        self.answered.update(rec["answers"])

    def summary(self) -> dict:
        def share(k: int) -> float:
            return k / self.generated if self.generated else 0.0

        per_split = {}
        for split in self.answers.splits():
            ids = [i for i, s in self.answers.split_of.items() if s == split]
            per_split[split] = {"answered": sum(i in self.answered for i in ids), "items": len(ids)}
        counts = {k: getattr(self, k) for k in ("generated", "parsed", "valid", "contradicts", "new",
                                                 "new_valid", "new_text", "states_answer")}
        return {**counts, **{f"share_{k}": share(v) for k, v in counts.items() if k != "generated"},
                "samples": self.samples, "empty_samples": self.empty_samples,
                "test_items_answered": per_split}


def read_records(path: Path) -> list[dict]:
    """The records of an augmentation file (a last line cut by a crash is skipped)."""
    records = []
    for line in Path(path).read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


FACT_NOTES = {"parse": "(templates.parse)", "valid": "(follow from the training facts, by the logic engine)",
              "contradict": "", "new": "(a statement, or an order of it, no training sentence makes)",
              "new_text": "(the sentence is not a training sentence)",
              "units": {"oracle-local": "sentences", "oracle-global": "documents",
                        "placebo-local": "sentences", "placebo-global": "documents"}}


def format_report(summary: dict, title: str, notes: dict | None = None) -> str:
    """The report as text; `notes` (FACT_NOTES by default) say how a dataset's statements are judged."""
    notes = notes or FACT_NOTES
    g = summary["generated"]
    unit = notes["units"].get(summary.get("strategy"), "samples")

    def row(label: str, key: str, note: str = "") -> str:
        k = summary[key]
        pct = f"{100 * k / g:5.1f}%" if g else "    -"
        return f"  {label:<22} {k:>7} {pct}  {note}".rstrip()

    lines = [title,
             f"  {'generated statements':<22} {g:>7}         from {summary['samples']} {unit} "
             f"({summary['empty_samples']} gave none)",
             row("parse", "parsed", notes["parse"]),
             row("valid", "valid", notes["valid"]),
             row("contradict", "contradicts", notes["contradict"]),
             row("new", "new", notes["new"]),
             row("new and valid", "new_valid"),
             row("new wording", "new_text", notes["new_text"]),
             row("state a test answer", "states_answer", "(reported, not removed)")]
    for split, c in summary["test_items_answered"].items():
        lines.append(f"    test split {split}: {c['answered']}/{c['items']} items have their answer stated")
    if summary.get("seconds"):
        lines.append(f"  generation: {summary['new_tokens']:,} new tokens in {summary['seconds']:.1f} s "
                     f"({summary['tokens_per_s']:,.0f} tokens/s)")
    return "\n".join(lines)
