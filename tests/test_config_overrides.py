"""One override engine for the run config and compare's options: nested keys, typed values, one-line
errors, runs written with the flat corpus fields of before 2026-12-01 still load to the same stream."""

import dataclasses
import json

import pytest

from minigen.config import RECIPES, RunConfig, apply_overrides, config_keys_help, get_preset, stage_configs
from minigen.data.corpus import CorpusConfig, packed_rows
from minigen.data.tokenizer import train_tokenizer
from minigen.errors import UserError
from minigen.eval.options import CompareOptions, option_keys_help
from minigen.eval.options import apply_overrides as compare_overrides
from minigen.model import Transformer


def test_nested_keys_reach_a_document_types_section_and_the_mixture():
    cfg = apply_overrides(get_preset("tiny-mixed"), ["data.roles.confusers=0.8", "data.mixture.roles=0.5",
                                                     "data.reversal.restated_max=2", "model.n_layer=2"])
    assert cfg.data.roles.confusers == 0.8 and cfg.data.reversal.restated_max == 2
    assert cfg.data.mixture["roles"] == 0.5 and cfg.data.mixture["qa"] == 0.06 and cfg.model.n_layer == 2
    whole = apply_overrides(get_preset("tiny-mixed"), ["data.mixture=roles:1,syllogism:0.5"])
    assert whole.data.mixture == {"roles": 1.0, "syllogism": 0.5}


@pytest.mark.parametrize("item, message", [
    ("data.roles.confuser=1", "data.roles fields: mode, confusers"),
    ("data.roles.confusers=lots", "expected a float"),
    ("data.roles.confusers=2", "must be in \\[0, 1\\]"),
    ("data.roles=1", "is a section"),
    ("data.mixture.poems=1", "unknown document types poems"),
    ("data.mixture=roles", "name:value"),
    ("data.roles_mode=flip", "use data.roles.mode"),
    ("data.repeats_max=3", "data.reversal.restated_max and data.roles.repeats_max"),
    ("optimizer.lr=1", "keys look like model.X"),
])
def test_bad_keys_and_values_are_one_line_errors(item, message):
    with pytest.raises(UserError, match=message):
        apply_overrides(get_preset("tiny-mixed"), [item])


def test_compare_options_use_the_same_engine():
    opts = compare_overrides(CompareOptions(), ["dataset.words=dev", "aug.n=3", "ft.lr=1e-4"])
    assert (opts.dataset.words, opts.aug.n, opts.ft.lr, opts.ft.lr_sweep) == ("dev", 3, 1e-4, "")
    with pytest.raises(UserError, match="unknown compare option 'data.size'"):
        compare_overrides(CompareOptions(), ["data.size=3"])
    assert "dataset.words" in option_keys_help() and "aug.temperature" in option_keys_help()
    assert "data.roles.confusers" in config_keys_help() and "data.mixture" in config_keys_help()


def test_a_recipe_replaces_the_presets_corpus_and_stages_only():
    cfg = get_preset("tiny", recipe="mixed")
    assert cfg.model == get_preset("tiny").model and not cfg.stages and cfg.train.steps == 2000
    assert cfg.data == get_preset("tiny-mixed").data
    assert set(RECIPES) >= {"roles2", "mixed"}
    with pytest.raises(UserError, match="unknown recipe"):
        get_preset("tiny", recipe="poems")


def test_every_recipe_resolves_on_the_tiny_shape():
    for name in RECIPES:  # each stage's settings are real, typed keys (a typo would raise here)
        plan = stage_configs(get_preset("tiny", recipe=name))
        assert plan[0][0] == 0 and all(b > a for (a, _), (b, _) in zip(plan, plan[1:], strict=False))
    replay = stage_configs(get_preset("tiny", recipe="roles2r-long"))[1][1].data.roles
    assert (replay.flip_share, replay.replay_restated) == (0.3, False)


def test_tiny_rr_is_the_tiny_shape_with_eight_heads():
    rr, tiny = get_preset("tiny-rr"), get_preset("tiny-roles2", recipe="roles2r-long")
    assert rr.model.n_head == 8 and dataclasses.replace(rr.model, n_head=4) == tiny.model
    assert (rr.train, rr.data, rr.stages) == (tiny.train, tiny.data, tiny.stages)
    sizes = [sum(p.numel() for p in Transformer(dataclasses.replace(c.model, vocab_size=300)).parameters())
             for c in (rr, tiny)]
    assert sizes[0] == sizes[1]  # narrower heads, the same parameters


def test_config_json_round_trips():
    cfg = get_preset("tiny-icl")
    assert RunConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


# The tiny preset's (now tiny-roles2's) config.json as runs before 2026-12-01 wrote it (flat corpus
# fields; stages by name).
LEGACY_TINY = {
    "model": {"vocab_size": 0, "n_layer": 4, "n_head": 4, "n_kv_head": 0, "d_model": 128, "seq_len": 256},
    "train": {"batch_size": 16, "lr": 1e-3, "min_lr": 1e-4, "warmup": 100, "steps": 1500, "eval_every": 250,
              "ckpt_every": 500, "log_every": 10},
    "data": {"seed": 0, "lexicon_seed": 0, "w_icl_reversal": 0.0, "w_icl_syllogism": 0.0, "w_icl_other": 0.0,
             "w_icl_people": 0.0, "w_facts": 0.0, "w_rewrite": 0.0, "w_inference": 0.0, "w_qa": 0.0,
             "w_icl_roles": 1.0, "facts_min": 2, "facts_max": 3, "prefix_prob": 0.0, "canonical_share": 1.0,
             "reversal_share": 1.0, "same_share": 0.5, "repeats_max": 0, "syllogisms_max": 3,
             "roles_mode": "mix", "roles_confusers": 0.0, "roles_more_share": 0.0},
    "stages": [{"steps": 500, "set": {"data.roles_mode": "flip", "data.roles_confusers": 0.8}},
               {"steps": 1000, "set": {"data.seed": 11, "train.warmup": 50, "data.roles_more_share": 0.5,
                                       "data.canonical_share": 0.5, "data.prefix_prob": 0.4,
                                       "data.repeats_max": 6}}],
}


def test_a_run_written_with_the_flat_corpus_fields_loads_to_the_same_stream():
    old = RunConfig.from_dict(LEGACY_TINY)
    new = get_preset("tiny-roles2")  # the default preset then
    tokenizer = train_tokenizer(CorpusConfig(), num_documents=300)
    for (b1, a), (b2, b) in zip(stage_configs(old), stage_configs(new), strict=True):
        assert b1 == b2 and a.data.mixture == b.data.mixture == {"roles": 1.0}
        assert a.data.roles == b.data.roles
        rows_a = packed_rows(a.data, tokenizer, 64, 0, 20)
        rows_b = packed_rows(b.data, tokenizer, 64, 0, 20)
        assert all((x == y).all() for x, y in zip(rows_a, rows_b, strict=True))
