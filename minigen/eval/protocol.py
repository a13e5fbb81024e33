"""What makes a `compare` number mean something, beside the conditions themselves: which items move
together in the intervals (`item_clusters`), the per-split summary with chance (`summarize`), the
heuristic rows on the same items and contexts (`heuristic_rows`), and which rows can be read at all
(`mark_interpretable`: vocabulary coverage, balanced ICL contexts, the strongest heuristic)."""

from __future__ import annotations

from minigen.eval.coverage import covers
from minigen.eval.scoring import NORMS
from minigen.eval.stats import accuracy_interval


def item_clusters(items: list, contexts_by_seed: list | None = None) -> list[int]:
    """Per item, the cluster it is resampled with: items that need the same documents (a fact's
    reversal and same-direction questions), share an option set (a counterbalanced group) or, for
    ICL, were scored in one sampled context (in any seed) move together."""
    parent = list(range(len(items)))

    def find(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    groups: dict = {}
    for k, item in enumerate(items):
        for key in (("docs", tuple(item.meta.get("doc_ids", ()))), ("options", tuple(sorted(item.options)))):
            if key[1]:
                groups.setdefault(key, []).append(k)
    index = {item.id: k for k, item in enumerate(items)}
    for s, contexts in enumerate(contexts_by_seed or []):
        if len(contexts) > 1:  # one context for all items: its variation is the seed's own
            for n, (_, ids) in enumerate(contexts):
                groups[("context", s, n)] = [index[i] for i in ids if i in index]
    for members in groups.values():
        for k in members[1:]:
            parent[find(k)] = find(members[0])
    return [find(k) for k in range(len(items))]


def summarize(items: list, runs: dict[int, list], chance: dict, clusters: list | None = None) -> dict:
    """Per test split: accuracy (sum of log-probs) with CI, and the length-normalized accuracies."""
    splits = list(dict.fromkeys(item.split for item in items))
    seeds = sorted(runs)
    out = {}
    for split in splits:
        idx = [k for k, item in enumerate(items) if item.split == split]
        cl = None if clusters is None else [clusters[k] for k in idx]
        row = {}
        for norm in NORMS:
            correct = [[runs[s][k].correct(norm) for k in idx] for s in seeds]
            if norm == "sum":
                row.update(accuracy_interval(correct, clusters=cl).to_dict())
            else:
                row[f"acc_{norm}"] = sum(map(sum, correct)) / (len(seeds) * len(idx))
        row["chance"] = chance_of(split, items, idx, chance)
        out[split] = row
    return out


def chance_of(split: str, items: list, idx: list[int], chance: dict) -> float:
    if split in chance:
        return float(chance[split])
    return sum(1 / len(items[k].options) for k in idx) / len(idx)  # uniform guessing


def answer_margin(score) -> float:
    """Log-probability of the best accepted option minus that of the best other option."""
    accepted = score.accepted or [score.answer]
    right = max(score.logprob[k] for k in accepted)
    wrong = max((lp for k, lp in enumerate(score.logprob) if k not in accepted), default=right)
    return right - wrong


def heuristic_rows(items: list, dataset, contexts_by_seed: dict) -> dict:
    """Each heuristic's accuracy per split on the items it applies to: the in-context ones on every ICL
    seed's contexts (only when ICL ran), the others on the training documents. A split where it ties
    every option of every item (a uniform guess) gets no row."""
    from minigen.eval.heuristics import HEURISTICS, common_words, credits

    train_texts = [d.text for d in dataset.train]
    common = common_words(train_texts)
    rows = {}
    for h in HEURISTICS:
        if h.in_context and not contexts_by_seed:
            continue
        per_seed: dict[int, dict] = {}
        informative: set[str] = set()
        for seed, contexts in (contexts_by_seed.items() if h.in_context else [(0, [(train_texts, None)])]):
            per_seed[seed] = {}
            for texts, ids in contexts:
                wanted = None if ids is None else set(ids)
                subset = items if wanted is None else [i for i in items if i.id in wanted]
                got, told = credits(h, subset, texts, common)
                per_seed[seed].update(got)
                informative |= told
        splits = {}
        for split in dict.fromkeys(i.split for i in items):
            ids = [i.id for i in items if i.split == split and all(i.id in c for c in per_seed.values())]
            if any(i in informative for i in ids):  # a heuristic that ties on every item is chance: no row
                m = [[per_seed[s][i] for i in ids] for s in sorted(per_seed)]
                splits[split] = accuracy_interval(m).to_dict()
        if splits:
            rows[h.name] = {"splits": splits,
                            "basis": "icl contexts" if h.in_context else "training documents"}
    return rows


def mark_interpretable(result: dict) -> None:
    """Per condition and split: whether the row can mean anything (`interpretable`, and `reason` when
    not), the strongest heuristic that reads what the condition reads (`heuristic`: every heuristic for
    ICL, the ones on the training documents for the others) and whether its interval lies above it
    (`above_heuristic`)."""
    cov = result.get("coverage")

    def strongest(split: str, in_context: bool) -> dict | None:
        cands = [(r["splits"][split]["acc"], h) for h, r in result["heuristics"].items()
                 if split in r["splits"] and (in_context or r["basis"] != "icl contexts")]
        return {"heuristic": max(cands)[1], "acc": max(cands)[0]} if cands else None

    result["strongest_heuristic"] = {s: h for s in result["test_splits"] if (h := strongest(s, True))}
    for res in result["conditions"].values():
        infos = list(res["info"].values())
        in_context = "contexts" in infos[0]
        for split, row in res["splits"].items():
            reason = None
            if cov is not None and not covers(cov):
                reason = (f"vocabulary coverage {cov['share']:.2f}: {len(cov['unseen'])} of the prompt and "
                          f"option tokens never occur in pretraining")
            elif any("balanced_items_n" in i for i in infos):
                balanced = sum(i["balanced_items_n"].get(split, 0) if "balanced_items_n" in i else row["n"]
                               for i in infos) / len(infos)
                if balanced < row["n"] / 2:
                    reason = (f"{row['n'] - balanced:.0f} of {row['n']} items have their answer in more "
                              f"context documents than a distractor (no balanced sample fits the context)")
            row["interpretable"] = reason is None
            row["reason"] = reason
            baseline = strongest(split, in_context)
            if baseline is not None:
                row["heuristic"] = baseline
                row["above_heuristic"] = row["ci"][0] > baseline["acc"]
