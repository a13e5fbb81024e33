"""The evaluation protocol: dev/test words, vocabulary coverage, heuristic baselines, the finetuning
format control, the FT learning-rate sweep, clustered intervals, and the probe (compare's ICL on dev
words, its contexts never cut)."""

import json
import re

import pytest

from minigen.cli import main
from minigen.compare import run_compare
from minigen.config import apply_overrides, get_preset
from minigen.data.datasets import DATASETS, load_dataset
from minigen.data.lexicon import Lexicon
from minigen.errors import UserError
from minigen.eval.heuristics import HEURISTICS, common_words, credit, credits
from minigen.eval.protocol import item_clusters, mark_interpretable

# eval.uncovered=score: the test run's stream (tiny's recipe) never shows syllogism's vocabulary
FAST = ["dataset.size=6", "ft.steps=4", "ft.batch_size=4", "ft.lr_sweep=", "eval.uncovered=score"]
BY_NAME = {h.name: h for h in HEURISTICS}


def _words(texts) -> set[str]:
    return {w for t in texts for w in re.findall(r"[a-z]+", t.lower())}


def test_dev_and_test_words_are_disjoint_slices_of_the_evaluation_pool():
    lex = Lexicon(0)
    assert not set(lex.dev_words) & set(lex.test_words)
    assert set(lex.dev_words) | set(lex.test_words) == set(lex.eval_words)
    assert not set(lex.eval_words) & set(lex.pretrain_words)


def test_no_probe_word_or_document_is_in_any_compare_test_item():
    from minigen.probe import PROBES, probe_dataset

    cfg = get_preset("tiny")
    pool = set(Lexicon(cfg.data.lexicon_seed).eval_words)
    probe_texts, probe_docs = [], set()
    for name, _ in PROBES.values():
        ds = probe_dataset(name, cfg)
        probe_docs |= {d.text for d in ds.train}
        probe_texts += [d.text for d in ds.train] + [t.prompt + o for t in ds.test for o in t.options]
    probe_words = _words(probe_texts) & pool
    assert probe_words
    for name in DATASETS:
        ds = load_dataset(name)  # what compare reports: seed 0, test words
        test_texts = [t.prompt + o for t in ds.test for o in t.options] + [d.text for d in ds.train]
        assert not probe_words & _words(test_texts), name
        assert not probe_docs & {d.text for d in ds.train}, name


def test_every_dataset_builds_on_dev_words_and_an_unknown_slice_is_a_user_error(capsys):
    dev_pool = set(Lexicon(0).dev_words)
    for name in DATASETS:
        ds = load_dataset(name, words="dev", size=None if name != "semantic" else 20)
        assert ds.words == "dev"
        used = _words(t.prompt + " ".join(t.options) for t in ds.test) & set(Lexicon(0).eval_words)
        assert used <= dev_pool
    with pytest.raises(UserError, match="unknown word slice"):
        load_dataset("reversal", words="train")
    with pytest.raises(SystemExit) as e:
        main(["compare", "--split", "reversal", "--set", "dataset.words=valid"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "unknown word slice 'valid'" in err and len(err.strip().splitlines()) == 1


def test_probe_contexts_are_never_cut_and_items_that_do_not_fit_are_left_out():
    from minigen.data.tokenizer import train_tokenizer
    from minigen.eval.contexts import document_budget
    from minigen.eval.trained_facts import evaluation_items
    from minigen.probe import probe_dataset, probe_set

    cfg = apply_overrides(get_preset("tiny"), ["train.probe_items=8"])
    tok = train_tokenizer(cfg.data, num_documents=300)
    ds = probe_dataset("syllogism", cfg)
    docs = {d.id: d.text for d in ds.train}
    skipped = {}
    for seq_len in (256, 48):  # 48: the needed documents of some items fit, of others not
        cfg.model.seq_len = seq_len
        ps = probe_set("syllogism", cfg, tok, ds=ds)
        skipped[seq_len] = ps.skipped["syllogism"]
        budget = document_budget(evaluation_items(ds), tok, seq_len)
        kept = {t.id for t in ps.items["syllogism"]}
        assert len(kept) + skipped[seq_len] == 8
        for item in [t for t in ds.test if t.split == "syllogism"][:8]:  # left out: its documents overflow
            needs = sum(len(tok.encode(docs[i])) + 1 for i in dict.fromkeys(item.meta["doc_ids"]))
            assert (item.id in kept) == (needs <= budget), item.id
        scored_ids = {t.id for _, scored in ps.contexts for t in scored}
        assert scored_ids == {t.id for ts in ps.items.values() for t in ts}
        for tokens, scored in ps.contexts:
            assert tokens[0] == tok.bos_id  # never cut from the left
            text = "\n" + tok.decode(tokens[1:])
            for item in scored:  # every document the item needs, whole, and room for its longest option
                assert all(f"\n{docs[i]}\n" in text for i in item.meta["doc_ids"])
                assert len(tokens) + max(len(tok.encode(item.prompt + o)) for o in item.options) <= seq_len
    assert skipped[256] == 0 and 0 < skipped[48] < 8
    cfg.model.seq_len = 12  # not even a prompt and its option fit: every item is left out, none is cut
    ps = probe_set("syllogism", cfg, tok, ds=ds)
    assert ps.contexts == [] and ps.items == {"syllogism": [], "syllogism_anti": []}
    n_anti = min(8, sum(t.split == "anti_atmosphere" for t in ds.test))
    assert ps.skipped == {"syllogism": 8, "syllogism_anti": n_anti} and n_anti > 0


def test_the_probe_is_compares_icl_on_dev_words(run_dir, tmp_path):
    """The probe scores its items in the contexts `minigen compare`'s icl condition builds for them (dev
    words, the probe's dataset size and restatements, seed 0): the same token ids, and the same accuracy
    on the items the probe keeps (the first train.probe_items of each split whose documents fit)."""
    import io

    import torch

    from minigen.checkpoint import load_run
    from minigen.compare import evaluate_dataset
    from minigen.eval.conditions import icl
    from minigen.eval.contexts import context_text
    from minigen.eval.options import CompareOptions, DatasetOptions, ICLOptions
    from minigen.probe import PROBE_DATASETS, PROBES, Probe

    model, tok, cfg = load_run(run_dir)
    cfg.train.probe_items = 8  # 8: more syllogism documents than one context holds (6 fit in one)
    probe = Probe(cfg, tok, torch.device("cpu"))
    got = probe.run(model)
    seen = {}

    def spy(setup, seed):
        seen[seed] = icl(setup, seed)
        return seen[seed]

    for name, (units, restatements) in PROBE_DATASETS.items():
        options = CompareOptions(dataset=DatasetOptions(size=str(units or 8), words="dev"),
                                 icl=ICLOptions(restatements=restatements))
        evaluate_dataset(name, model, tok, cfg, {"icl": spy}, 1, options, tmp_path, io.StringIO())
        res = seen.pop(0)
        context_of = {i: [tok.bos_id] + tok.encode(context_text(texts))
                      for texts, ids in res.contexts for i in ids}
        correct = {s.item_id: s.correct() for s in res.scores}
        assert probe.sets[name].contexts
        for tokens, items in probe.sets[name].contexts:
            assert all(tokens == context_of[item.id] for item in items)
        for key, (dataset, split) in PROBES.items():
            if dataset != name:
                continue
            asked = [s.item_id for s in res.scores if s.split == split][:8]
            ids = [t.id for t in probe.items[key]]
            assert set(ids) <= set(asked) and len(ids) + probe.skipped[key] == len(asked)
            if key in ("reversal", "syllogism"):
                assert probe.skipped[key] == 0
            if ids:
                assert got[f"probe_{key}"] == sum(correct[i] for i in ids) / len(ids)
    # Each probe's baselines are on its own items: the flip rule answers every reversal and no
    # same-direction question, the atmosphere rule no Darapti item; chance is 1 / options.
    b = probe.baselines
    assert b["reversal"]["flip"] == 1.0 and b["reversal_same"]["flip"] == 0.0
    assert b["reversal"]["chance"] == 0.5 and b["syllogism"]["chance"] == 0.25
    assert b["syllogism"]["atmosphere"] > 0.5 and b.get("syllogism_anti", {}).get("atmosphere", 0.0) == 0.0
    assert b.get("syllogism_anti", {}).get("some", 1.0) == 1.0  # every Darapti answer is "Some"
    # Written-out process answers: chance 0, and neither the copied expression nor its outermost rule
    # alone is ever the answer.
    assert b["process_gen"] == {"chance": 0.0, "copy": 0.0, "outermost": 0.0}
    assert b["process"]["chance"] == 0.25


def test_the_probe_leaves_out_a_dataset_whose_vocabulary_the_stream_does_not_cover(run_dir):
    """With the stream's token counts, a dataset with one probe token the stream never shows is not
    probed (no contexts, no probe_* value, no baselines, no generation source), and the others are
    probed as without counts."""
    import torch

    from minigen.checkpoint import load_run
    from minigen.eval.coverage import item_tokens
    from minigen.probe import PROBES, Probe, probe_dataset

    model, tok, cfg = load_run(run_dir)
    cfg.train.probe_items = 4
    asked = {name: [t for t in probe_dataset(name, cfg).test if (name, t.split) in PROBES.values()]
             for name in {d for d, _ in PROBES.values()}}
    own = item_tokens(tok, asked["syllogism"]) - set().union(
        *(item_tokens(tok, items) for name, items in asked.items() if name != "syllogism"))
    assert own, "the syllogism probe needs a token no other probe has"
    counts = {"counts": [1] * tok.vocab_size, "rows_sampled": 1}
    counts["counts"][min(own)] = 0
    probe = Probe(cfg, tok, torch.device("cpu"), counts)
    assert set(probe.uncovered) == {"syllogism"} and probe.uncovered["syllogism"] < 1.0
    assert "syllogism" not in probe.sets and not any(k.startswith("syllogism") for k in probe.items)
    assert not any(k.startswith("syllogism") for k in probe.baselines)
    assert [s[0] for s in probe.generation.sources] == ["reversal", "reversal_curse"]  # no syllogism
    got = probe.run(model)
    assert "probe_syllogism" not in got and "probe_reversal" in got and "probe_gen_local_valid" in got
    assert "probe_gen_local_valid_syllogism" not in got and "probe_gen_local_valid_reversal_curse" in got
    full = Probe(cfg, tok, torch.device("cpu"), {"counts": [1] * tok.vocab_size, "rows_sampled": 1})
    assert full.uncovered == {} and set(full.items) == set(PROBES)


def test_coverage_is_measured_kept_in_the_run_and_marks_rows_not_interpretable(run_dir, tmp_path):
    results = run_compare("syllogism", run_dir, "base", seeds=1, out=tmp_path / "a", overrides=FAST,
                          wandb_mode="disabled")
    counts = json.loads((run_dir / "token_counts.json").read_text())
    assert counts["rows_sampled"] > 0 and sum(c > 0 for c in counts["counts"]) > 100
    ds = results["datasets"]["syllogism"]
    cov = ds["coverage"]
    # The tiny recipe's role documents never say "Question", "Answer", "follows"...
    assert cov["share"] < 1.0 and "Question" in cov["unseen"]
    for row in ds["conditions"]["base"]["splits"].values():
        assert row["interpretable"] is False and "coverage" in row["reason"]


def test_a_dataset_the_pretraining_never_covered_is_not_scored_by_default(run_dir, tmp_path, capsys):
    """eval.uncovered=skip (the default): no condition runs on a dataset with coverage below 1 (every
    row would be n/i); results, table and figure say why, and its training-document heuristics stay."""
    from minigen.compare import format_table
    from minigen.eval.options import CompareOptions
    from minigen.eval.options import apply_overrides as compare_overrides

    out = tmp_path / "skip"
    fast = [o for o in FAST if not o.startswith("eval.uncovered")]
    results = run_compare("syllogism", run_dir, "base,icl,ft", seeds=2, out=out, overrides=fast,
                          wandb_mode="disabled")
    ds = json.loads((out / "results.json").read_text())["datasets"]["syllogism"]
    assert ds["conditions"] == {} and "coverage" in ds["not_scored"] and ds["coverage"]["share"] < 1.0
    assert "atmosphere" in ds["heuristics"]
    assert (out / "scores.jsonl").read_text() == "" and (out / "compare.png").is_file()
    printed = capsys.readouterr().out
    assert "no condition scored" in printed and "eval.uncovered=score" in printed
    assert format_table(results) in printed
    with pytest.raises(UserError, match="eval.uncovered"):
        compare_overrides(CompareOptions(), ["eval.uncovered=maybe"])


def test_a_coverage_file_of_another_run_is_refused_in_one_line(run_dir, tmp_path, capsys):
    run_compare("syllogism", run_dir, "base", seeds=1, out=tmp_path / "a", overrides=FAST,
                wandb_mode="disabled")
    path = run_dir / "token_counts.json"
    good = path.read_text()
    try:
        path.write_text(json.dumps({**json.loads(good), "tokenizer_sha256": "0" * 64}))
        with pytest.raises(SystemExit) as e:
            main(["compare", "--split", "syllogism", "--ckpt", str(run_dir), "--conditions", "base",
                  "--out", str(tmp_path / "b"), "--wandb", "disabled"])
        assert e.value.code == 2
        err = capsys.readouterr().err
        assert "token_counts.json was counted for another tokenizer" in err
        assert len(err.strip().splitlines()) == 1
    finally:
        path.write_text(good)


def test_counts_see_exactly_the_tokens_of_the_sampled_rows():
    import numpy as np

    from minigen.data.corpus import packed_rows
    from minigen.data.tokenizer import train_tokenizer
    from minigen.eval.coverage import corpus_token_counts

    cfg = apply_overrides(get_preset("tiny-mixed"), ["train.steps=2", "train.batch_size=4"])
    tok = train_tokenizer(cfg.data, num_documents=300)
    counts = corpus_token_counts(cfg, tok, sample_rows=8)
    rows, _ = packed_rows(cfg.data, tok, cfg.model.seq_len, 0, 8)
    assert counts["rows_sampled"] == 8
    assert np.array_equal(np.asarray(counts["counts"]), np.bincount(rows.ravel(), minlength=tok.vocab_size))


def test_flip_heuristic_answers_every_reversal_and_no_same_direction_question():
    ds = load_dataset("reversal", size=20)
    got = credits(BY_NAME["flip"], ds.test, [d.text for d in ds.train], frozenset())[0]
    rev = [got[t.id] for t in ds.test if t.split == "reversal"]
    same = [got[t.id] for t in ds.test if t.split == "train"]
    assert rev and all(c == 1.0 for c in rev) and same and all(c == 0.0 for c in same)


def test_some_heuristic_answers_every_darapti_item_and_only_the_some_conclusions_elsewhere():
    """Ignoring the premises and saying "Some" gets the anti_atmosphere split right: its guard row."""
    ds = load_dataset("syllogism")
    got = credits(BY_NAME["some"], ds.test, [d.text for d in ds.train], frozenset())[0]
    anti = [got[t.id] for t in ds.test if t.split == "anti_atmosphere"]
    assert anti and all(c == 1.0 for c in anti)
    for t in ds.test:
        if t.split == "syllogism":
            assert got[t.id] == float(t.meta["conclusion"][0] == "some")


def test_context_heuristics_read_the_documents_and_ties_are_a_uniform_guess():
    from minigen.data.datasets import TestItem

    item = TestItem("x", "s", "zorp are", [" blick.", " frand.", " quell."], 1)
    docs = ["zorp are frand.", "glim are blick.", "zorp eat quell.", "vex are quell.", "tup", "wex", "kop",
            "mil", "dax"]
    # "mentioned" counts documents: quell is in two, frand and blick in one ("are" is in a third of the
    # documents: a word of the task, ignored).
    assert credits(BY_NAME["mentioned"], [item], docs, common_words(docs))[0]["x"] == 0.0
    # Documents that also hold the subject "zorp": frand and quell tie, a uniform guess between them.
    assert credits(BY_NAME["shares_document"], [item], docs, common_words(docs))[0]["x"] == 0.5
    assert credit([1.0, 1.0, 0.0], [0]) == 0.5 and credit([0.0, 2.0], [1]) == 1.0


def test_clusters_keep_a_facts_questions_and_a_counterbalanced_group_together():
    from minigen.eval.trained_facts import same_direction_items

    rev = load_dataset("reversal", size=10)
    cl = item_clusters(rev.test)
    by_id = dict(zip([t.id for t in rev.test], cl, strict=True))
    assert by_id["reversal-000"] == by_id["reversal-000-same"] != by_id["reversal-001"]
    assert len(set(cl)) == 10
    rc = load_dataset("reversal_curse", size=8)
    rc_cl = item_clusters(rc.test + same_direction_items(rc))
    assert len(set(rc_cl)) < len(rc.test) / 2  # groups of 4 share their options
    first = [t.id for t in rev.test if int(t.id.split("-")[1]) < 4]  # facts 0-3, both questions each
    contexts = [([], first), ([], [t.id for t in rev.test if t.id not in first])]
    assert len(set(item_clusters(rev.test, [contexts]))) == 2


def test_unbalanced_icl_rows_are_not_a_number_and_rows_below_a_heuristic_are_flagged():
    row = {"acc": 0.9, "ci": [0.8, 0.95], "n": 100, "seeds": 2}
    result = {
        "test_splits": ["syllogism"], "coverage": {"share": 1.0, "unseen": []},
        "heuristics": {"mentioned": {"splits": {"syllogism": {"acc": 0.85}}, "basis": "icl contexts"},
                       "atmosphere": {"splits": {"syllogism": {"acc": 0.7}}, "basis": "training documents"}},
        "conditions": {"icl": {"splits": {"syllogism": dict(row)},
                               "info": {"0": {"contexts": 3, "balanced_items_n": {"syllogism": 10}},
                                        "1": {"contexts": 3, "balanced_items_n": {"syllogism": 20}}}},
                       "ft": {"splits": {"syllogism": dict(row)}, "info": {"0": {}}},
                       "base": {"splits": {"syllogism": dict(row, ci=[0.6, 0.95])}, "info": {"0": {}}}},
    }
    mark_interpretable(result)
    icl = result["conditions"]["icl"]["splits"]["syllogism"]
    assert icl["interpretable"] is False and "85 of 100 items" in icl["reason"]
    assert icl["heuristic"]["heuristic"] == "mentioned" and icl["above_heuristic"] is False  # .80 < .85
    # A condition without a context is held to the heuristics that read what it reads.
    ft = result["conditions"]["ft"]["splits"]["syllogism"]
    assert ft["interpretable"] is True and ft["heuristic"]["heuristic"] == "atmosphere"
    assert ft["above_heuristic"]
    assert result["conditions"]["base"]["splits"]["syllogism"]["above_heuristic"] is False  # .60 < .70
    assert result["strongest_heuristic"]["syllogism"] == {"heuristic": "mentioned", "acc": 0.85}


def test_lr_sweep_chooses_on_trained_facts_and_records_it(run_dir, tmp_path):
    over = [o for o in FAST if not o.startswith("ft.lr_sweep")] + ["ft.lr_sweep=1e-4,3e-3"]
    results = run_compare("syllogism", run_dir, "ft", seeds=2, out=tmp_path / "s", overrides=over,
                          wandb_mode="disabled")
    ds = results["datasets"]["syllogism"]
    sweep = ds["ft_lr_sweep"]
    assert sweep["split"] == "train" and set(sweep["acc"]) == {"0.0001", "0.003"}
    best = max(sweep["acc"], key=lambda lr: (sweep["acc"][lr], sweep["margin"][lr]))
    assert sweep["lr"] == float(best)
    infos = ds["conditions"]["ft"]["info"]
    assert {i["lr"] for i in infos.values()} == {sweep["lr"]} and len(infos) == 2


def test_format_control_finetunes_on_the_test_strings_and_can_reach_them(run_dir, tmp_path):
    over = ["dataset.size=3", "ft.steps=150", "ft.batch_size=8", "ft.lr=1e-2", "ft.lr_sweep=",
            "eval.same_direction=false", "eval.uncovered=score"]
    results = run_compare("syllogism", run_dir, "ft-format", seeds=3, out=tmp_path / "f", overrides=over,
                          wandb_mode="disabled")
    res = results["datasets"]["syllogism"]["conditions"]["ft-format"]
    assert res["seeds"] == [0]  # a control: one seed
    assert res["splits"]["syllogism"]["acc"] >= 0.95


def test_task_words_are_counted_on_the_training_set_not_on_one_context():
    """In a reversal context most documents restate the asked fact, so its comparative is frequent
    there; it is still a word of the task ("more"/"less" fill a third of the training set), so the
    context heuristics tie on reversals instead of reading the comparative's frequency as evidence."""
    ds = load_dataset("reversal", size=20)
    common = common_words([d.text for d in ds.train])
    assert {"more", "less"} <= common
    item = next(t for t in ds.test if t.split == "reversal")
    context = [d.text for d in ds.train if d.id in item.meta["doc_ids"]][:8]
    got, informative = credits(BY_NAME["mentioned"], [item], context, common)
    assert got[item.id] == 0.5 and not informative
