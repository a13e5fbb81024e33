"""Sentence splitting of training documents (its own ablation) and the fixed token budget.

Splitting a multi-sentence document gives finetuning more, shorter sequences: "independent" makes
each sentence its own document, "cumulative" makes every prefix of the document one (sentence 1;
sentences 1-2; ...). Both also change how many tokens finetuning sees. A *fixed token budget* sets
the number of finetuning steps so that a condition sees as many tokens as plain finetuning on the
whole documents does — so "more data" and "better data" can be told apart.
The splitting itself is `ft.sentences` (minigen.eval.conditions.training_texts).
"""

from __future__ import annotations

import math


def mean_length(sequences: list[list[int]]) -> float:
    return sum(len(s) for s in sequences) / len(sequences)


def budget_steps(reference: list[list[int]], reference_steps: int, sequences: list[list[int]]) -> int:
    """Steps on `sequences` that see as many tokens as `reference_steps` steps on `reference` (same
    batch size: a step takes that many sequences, so tokens per step scale with the mean length)."""
    tokens = reference_steps * mean_length(reference)
    return max(1, math.ceil(tokens / mean_length(sequences)))
