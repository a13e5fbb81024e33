"""Recipes: what a model is pretrained on. Each is a corpus (overrides of `CorpusConfig`, keyed as its
fields) and optional curriculum stages, each {"steps": N, "set": {"data.X": value, "train.Y": value}}.

Stage lengths are written at the tiny shapes' scale (16 rows of 256 tokens a step); a shape whose
training settings name `steps` runs the same curriculum in that many steps, each stage keeping its
share (`minigen.config.get_preset`). Many recipes are earlier experiments, kept so that their logs
can be rerun; `minigen.config.PRESET_RECIPES` names the ones the presets use.
"""

from __future__ import annotations

from typing import Any

# `mixed` is the corpus defaults (dense in-context reversal / syllogism documents, and every other
# type); the role recipes use
# role-curriculum documents only (2-3 facts, canonical template), in stages
# (docs/log/2026-11-27-role-curriculum.md, docs/log/2026-11-27-two-stage-curriculum.md).
_LATER = {"data.seed": 11, "train.warmup": 50}  # a later stage: a stream the first never saw, a short warmup
_TEMPLATES = {"data.roles.more_share": 0.5, "data.canonical_share": 0.5, "data.prefix_prob": 0.4}
_REPEATED = {**_TEMPLATES, "data.roles.repeats_max": 6}  # each fact stated 1-7 times
_ROLES_CORPUS = dict(mixture={"roles": 1.0}, facts_min=2, facts_max=3, canonical_share=1.0, prefix_prob=0.0)
_FLIP_FIRST = dict(steps=500, set={"data.roles.mode": "flip", "data.roles.confusers": 0.8})
_TWO_STAGES = [
    # 1. reversals in one direction, 80% of later facts confusers: retrieval by the word's role
    _FLIP_FIRST,
    # 2. the final corpus at once: both directions, templates, prefixes, restated facts. Found at
    # 600 + 1,400 steps, cut to 500 + 1,000 to fit 10 minutes.
    dict(steps=1000, set={**_LATER, **_REPEATED}),
]
# A candidate for one recipe over every dataset's vocabulary (issue 19): roles2's first stage, then
# the role documents interleaved with every other in-context and format type (not yet the default:
# docs/log/2026-12-01-roles2-all.md).
_ALL_TYPES = {"roles": 0.5, "syllogism": 0.2, "people": 0.1, "world": 0.05, "rewrite": 0.05,
              "inference": 0.05, "qa": 0.05}
_ALL_TYPES_P = {**_ALL_TYPES, "roles": 0.45, "process": 0.05}  # and the process dataset's vocabulary
_ALL_STAGE = dict(steps=1000, set={**_LATER, **_REPEATED, "data.mixture": _ALL_TYPES_P})
_ALL_REPLAY = dict(_ALL_STAGE, set={**_ALL_STAGE["set"], "data.roles.flip_share": 0.3})
_FLIP_MUON = dict(_FLIP_FIRST, set={**_FLIP_FIRST["set"], "train.optimizer": "muon",
                                    "train.muon_lr_scale": 10.0})
# roles2's role stage replaying flip-stage documents (30%), each of their facts stated once: a restated
# confuser line is copied while the question about the same word flips, the one pair of signals in
# the stage that contradict each other (docs/log/2026-12-02-replay-once.md)
_ROLE_REPLAY = dict(_TWO_STAGES[1], set={**_TWO_STAGES[1]["set"], "data.roles.flip_share": 0.3,
                                         "data.roles.replay_restated": False})
_ROLE_LONG = dict(_ROLE_REPLAY, steps=2000)  # roles2r-long's role stage (tiny-rr's)
# recall documents only, in the roles corpus's one template, and recall-only's stage (the lookup recipes)
_RECALL_CORPUS = {**_ROLES_CORPUS, "mixture": {"recall": 1.0}}
_RECALL_STAGE = dict(steps=2500, set={})
_RECALL_REV_CMP = {**_RECALL_CORPUS, "recall.reversed_share": 1.0, "recall.compare_only": True}
_KEYVAL_REV = {**_ROLES_CORPUS, "mixture": {"keyval": 1.0}, "keyval.reversed_share": 1.0}
_PEOPLE_DENSE = {"mixture": {"people": 1.0}, "people.dense": True, "canonical_share": 0.5}
_PEOPLE_CANON = {**_ROLES_CORPUS, **_PEOPLE_DENSE, "canonical_share": 1.0}  # one template per order
_RECALL_CMP_PEOPLE_REV = {**_RECALL_REV_CMP, "recall.people_share": 0.5, "people.name_first_share": 1.0}
# 3-5 people a document (they fit a row), each stated name first and restated description first
_PEOPLE_FIT_REV = {**_PEOPLE_CANON, "people.name_first_share": 1.0, "people.dense_min": 3,
                   "people.dense_max": 5}
# roles2r-long-rw's role stage with every dataset's vocabulary: 14% of it the other datasets' types
_RW_ALL = {"roles": 0.66, "rewrite": 0.2, "syllogism": 0.04, "people": 0.05, "world": 0.04, "process": 0.01}
_RWA_STAGE = dict(_ROLE_LONG, set={**_ROLE_LONG["set"], "data.mixture": _RW_ALL,
                                   "data.rewrite.compare_only": True, "data.rewrite.as_fact_line": True})
_SYL_PATTERNS = {"data.syllogism.draw": "pattern"}
_SYL_STAGE = dict(steps=1000, set={**_LATER, **_REPEATED, **_SYL_PATTERNS, "data.seed": 12,
                                   "data.mixture": {"syllogism": 1.0}})
_SYL_MIX = dict(steps=1000, set={**_RWA_STAGE["set"], **_SYL_PATTERNS, "data.seed": 13, "data.mixture": {
    **{k: v / 2 for k, v in _RW_ALL.items()}, "syllogism": 0.52}})  # half syllogisms, half _RW_ALL
_SYL_MIX6 = dict(_SYL_MIX, steps=2000, set={**_SYL_MIX["set"], "data.syllogism.pairs_max": 6,
                                            "data.syllogism.draw": "conclusion"})  # sylm6's one stage
# roles2r-long-rwa-sylm6x's stages: the default's two, then sylm6's stage twice on two streams
_SYL6X_STAGES = [_FLIP_FIRST, _RWA_STAGE, _SYL_MIX6,
                 dict(_SYL_MIX6, set={**_SYL_MIX6["set"], "data.seed": 16})]
# roles2r-long-rwa-rwp's stage: 1,000 steps with 24% of the documents people rewrites
_RWP_STAGE = dict(_RWA_STAGE, steps=1000, set={
    **_RWA_STAGE["set"], "data.seed": 14, "data.rewrite.people_share": 0.6,
    "data.mixture": {**_RW_ALL, "roles": 0.46, "rewrite": 0.4}})
# roles2r-long-rwa-rwp2's stages: the default's, rwp's, then 1,000 steps with 54% people rewrites
_RWP2_STAGES = [_FLIP_FIRST, _RWA_STAGE, _RWP_STAGE, dict(_RWP_STAGE, set={
    **_RWP_STAGE["set"], "data.seed": 17, "data.rewrite.people_share": 0.9,
    "data.mixture": {**_RW_ALL, "roles": 0.26, "rewrite": 0.6}})]
# roles2r-long-rwa-rwp3's (tiny-people's) stages: rwp2's, then its last stage again on a new stream
_RWP3_STAGES = [*_RWP2_STAGES, dict(_RWP2_STAGES[-1], set={**_RWP2_STAGES[-1]["set"], "data.seed": 18})]
# a people-lookup stage after rwp3: rwp2's last mixture with a fifth of it dense people documents of 2-4
# people (half restated in the order stated) and the rewrites' people in blocks of 1-4, so that a
# restatement must find its person among several: the lookup the reversal_curse ICL prompt asks for
_PEOPLE_LOOKUP_STAGE = dict(_RWP2_STAGES[-1], steps=2000, set={
    **_RWP2_STAGES[-1]["set"], "data.seed": 21, "data.rewrite.people_block_max": 4, "data.people.dense": True,
    "data.people.dense_min": 2, "data.people.dense_max": 4, "data.people.same_share": 0.5,
    "data.mixture": {**_RW_ALL, "roles": 0.26, "rewrite": 0.45, "people": 0.2}})


def _syl_people_stages(seeds):
    """sylm6's stage, once per stream seed, with 90% of its rewritten statements people."""
    return [dict(_SYL_MIX6, set={**_SYL_MIX6["set"], "data.seed": seed, "data.rewrite.people_share": 0.9})
            for seed in seeds]


RECIPES: dict[str, dict[str, Any]] = {
    "roles2": {"data": _ROLES_CORPUS, "stages": _TWO_STAGES},  # tiny's default
    "mixed": {"data": {}},  # the corpus defaults; steps from the shape
    "roles2r": {"data": _ROLES_CORPUS, "stages": [_FLIP_FIRST, _ROLE_REPLAY]},
    "roles2mr": {"data": _ROLES_CORPUS, "stages": [_FLIP_MUON, _ROLE_REPLAY]},  # and the Muon flip stage
    # roles2r with a 2,000-step role stage (2,500 in all: a 30-minute CPU candidate): its reversal was
    # still rising at the end of the 1,000-step stage on seed 2
    "roles2r-long": {"data": _ROLES_CORPUS, "stages": [_FLIP_FIRST, _ROLE_LONG]},
    # roles2r-long with rewrite documents of comparisons (the local augmentation format: a fact line, "In
    # other words:", its restatements and its converse) as 20% of its role stage: the generation probe's
    # local rewrites, beside the role
    "roles2r-long-rw": {"data": _ROLES_CORPUS, "stages": [_FLIP_FIRST, dict(_ROLE_LONG, set={
        **_ROLE_LONG["set"], "data.mixture": {"roles": 0.8, "rewrite": 0.2},
        "data.rewrite.compare_only": True, "data.rewrite.as_fact_line": True})]},
    # roles2r-long-rw with every other dataset's documents at small shares of its role stage (syllogisms,
    # people, the semantic world, processes, global inferences): every dataset's vocabulary
    "roles2r-long-rwa": {"data": _ROLES_CORPUS, "stages": [_FLIP_FIRST, _RWA_STAGE]},
    # roles2r-long-rwa, then in-context syllogisms alone, then half syllogisms and half the role stage's
    # mixture (tiny-icl's two syllogism stages), every premise pattern equally often (Darapti as often as
    # Barbara: the atmosphere rule cannot answer them); taught the majority answer, "Some", on 2 seeds
    "roles2r-long-rwa-syl": {"data": _ROLES_CORPUS,
                             "stages": [_FLIP_FIRST, _RWA_STAGE, _SYL_STAGE, _SYL_MIX]},
    # roles2r-long-rwa-syl's stages with the conclusion-balanced draw (tiny-icl's syllogism documents), or
    # with one premise pair a document in its syllogism-only stage (no line to find among other pairs)
    "roles2r-long-rwa-sylc": {"data": _ROLES_CORPUS, "stages": [_FLIP_FIRST, _RWA_STAGE, *(
        dict(st, set={**st["set"], "data.syllogism.draw": "conclusion"}) for st in (_SYL_STAGE, _SYL_MIX))]},
    "roles2r-long-rwa-syl1": {"data": _ROLES_CORPUS, "stages": [_FLIP_FIRST, _RWA_STAGE, dict(
        _SYL_STAGE, set={**_SYL_STAGE["set"], "data.syllogism.pairs_max": 1}), _SYL_MIX]},
    # roles2r-long-rwa-syl (and -sylc) with 1-6 premise pairs a document in both syllogism stages: an ICL
    # context holds about ten pairs, and the models that learned on 1-3 read one pair's conclusion but
    # not the pair a question asks about among ten (docs/log/2026-12-06-syllogism-stages.md)
    "roles2r-long-rwa-syl6": {"data": _ROLES_CORPUS, "stages": [_FLIP_FIRST, _RWA_STAGE, *(
        dict(st, set={**st["set"], "data.syllogism.pairs_max": 6}) for st in (_SYL_STAGE, _SYL_MIX))]},
    "roles2r-long-rwa-sylc6": {"data": _ROLES_CORPUS, "stages": [_FLIP_FIRST, _RWA_STAGE, *(
        dict(st, set={**st["set"], "data.syllogism.pairs_max": 6, "data.syllogism.draw": "conclusion"})
        for st in (_SYL_STAGE, _SYL_MIX))]},
    # roles2r-long-rwa-sylc6 with Darapti 3 in 8 of the "All, All" premise pairs (1 in 6 in sylc6, whose
    # seeds 1 and 2 learned the atmosphere rule: Barbara right, Darapti never, with one pair in context)
    "roles2r-long-rwa-sylc6d": {"data": _ROLES_CORPUS, "stages": [_FLIP_FIRST, _RWA_STAGE, *(
        dict(st, set={**st["set"], "data.syllogism.pairs_max": 6, "data.syllogism.draw": "conclusion",
                      "data.syllogism.darapti_share": 0.6})
        for st in (_SYL_STAGE, _SYL_MIX))]},
    # roles2r-long-rwa-sylc6's syllogism documents in one 2,000-step stage of half syllogisms and half the
    # role stage's mixture, no syllogism-only stage (the reversal falls to .4-.5 in it, and seed 0's
    # syllogisms rose most in the mixed stage)
    "roles2r-long-rwa-sylm6": {"data": _ROLES_CORPUS, "stages": [_FLIP_FIRST, _RWA_STAGE, _SYL_MIX6]},
    # roles2r-long-rwa, then 1,000 steps with twice the rewrite documents and 60% of their statements
    # people in the reversal curse's paraphrase templates (24% of the documents): roles2r-long-rwp's 8%
    # wrote 0.3% valid people rewrites (docs/log/2026-12-05-rewrite-documents.md)
    "roles2r-long-rwa-rwp": {"data": _ROLES_CORPUS, "stages": [_FLIP_FIRST, _RWA_STAGE, _RWP_STAGE]},
    # roles2r-long-rwa-sylm6 with Darapti 3 in 8 of the "All, All" premise pairs (sylm6's seeds 0 and 2
    # learned the atmosphere rule, its seed 1 the middle term)
    "roles2r-long-rwa-sylm6d": {"data": _ROLES_CORPUS, "stages": [_FLIP_FIRST, _RWA_STAGE, dict(
        _SYL_MIX6, set={**_SYL_MIX6["set"], "data.syllogism.darapti_share": 0.6})]},
    # roles2r-long-rwa-sylm6 with another stream for its syllogism stage (data.seed 15): is which seed learns
    # the middle term decided by the stage's documents?
    "roles2r-long-rwa-sylm6b": {"data": _ROLES_CORPUS, "stages": [_FLIP_FIRST, _RWA_STAGE, dict(
        _SYL_MIX6, set={**_SYL_MIX6["set"], "data.seed": 15})]},
    # roles2r-long-rwa-sylm6, then 2,000 more steps of its stage's mixture on a new stream (data.seed 16):
    # do the seeds that learned the atmosphere rule in 2,000 steps learn the middle term in 4,000?
    "roles2r-long-rwa-sylm6x": {"data": _ROLES_CORPUS, "stages": _SYL6X_STAGES},
    # roles2r-long-rwa-sylm6x, then a third 2,000-step stage of the same mixture (data.seed 20): sylm6x's
    # seed 2 ended on the atmosphere rule on two machines; does more of the same stage turn it?
    "roles2r-long-rwa-sylm6xx": {"data": _ROLES_CORPUS, "stages": [*_SYL6X_STAGES, dict(
        _SYL_MIX6, set={**_SYL_MIX6["set"], "data.seed": 20})]},
    # roles2r-long-rwa-rwp, then 1,000 more steps with the rewrite documents at 60% and 90% of their
    # statements people (54% of the documents people rewrites, 24% in rwp's stage): dose and response
    "roles2r-long-rwa-rwp2": {"data": _ROLES_CORPUS, "stages": _RWP2_STAGES},
    # roles2r-long-rwa-rwp2, then 1,000 more steps of its last stage's mixture on a new stream (data.seed 18):
    # rwp2 taught seed 0 to read the role word and not seed 1 (docs/log/2026-12-06-role-word.md)
    "roles2r-long-rwa-rwp3": {"data": _ROLES_CORPUS, "stages": _RWP3_STAGES},
    # roles2r-long-rwa-rwp3 (tiny-people), then its people-lookup stage: people ICL (at chance on every
    # recipe before) from a model that already copies one person's name in a rewrite? No, on seed 0, with
    # -plb and -pl (docs/log/2026-12-07-people-lookup-stage.md)
    "roles2r-long-rwa-rwp3-pl": {"data": _ROLES_CORPUS, "stages": [*_RWP3_STAGES, _PEOPLE_LOOKUP_STAGE]},
    # the same with the blocks alone: rwp2's last mixture (60% rewrites, 90% of them people) in blocks of 1-4
    "roles2r-long-rwa-rwp3-plb": {"data": _ROLES_CORPUS, "stages": [*_RWP3_STAGES, dict(
        _RWP2_STAGES[-1], steps=2000, set={**_RWP2_STAGES[-1]["set"], "data.seed": 21,
                                           "data.rewrite.people_block_max": 4})]},
    # the default (roles2r-long-rwa), then the people-lookup stage: the same without the people-rewrite stages
    "roles2r-long-rwa-pl": {"data": _ROLES_CORPUS, "stages": [_FLIP_FIRST, _RWA_STAGE, _PEOPLE_LOOKUP_STAGE]},
    # roles2r-long-rwa-rwp3, then 1,000 more steps of its last stage's mixture on a new stream (data.seed 19):
    # seed 1 was half way through learning the role word at rwp3's end (docs/log/2026-12-06-rewrite-reader.md)
    "roles2r-long-rwa-rwp4": {"data": _ROLES_CORPUS, "stages": [*_RWP2_STAGES, *(dict(
        _RWP2_STAGES[-1], set={**_RWP2_STAGES[-1]["set"], "data.seed": seed}) for seed in (18, 19))]},
    # roles2r-long-rwa-rwp2, then sylm6x's two syllogism stages with 90% of their rewritten statements people
    # (9% of the documents): the role word read and the middle term learned in one run?
    "roles2r-long-rwa-rwp2-sylm6x": {"data": _ROLES_CORPUS,
                                     "stages": [*_RWP2_STAGES, *_syl_people_stages((13, 16))]},
    # tiny-people's recipe (rwp3), then sylm6xx's three syllogism stages with 90% of their rewritten
    # statements people: one recipe for the three datasets augmented finetuning is measured on (issue 21)
    "roles2r-long-rwa-rwp3-sylm6xx": {"data": _ROLES_CORPUS,
                                      "stages": [*_RWP3_STAGES, *_syl_people_stages((13, 16, 20))]},
    # roles2r-long-rwa-sylc with 0-7 more premise pairs that no question asks about in each syllogism
    # document: 1-10 pairs, as many as an ICL context holds
    "roles2r-long-rwa-sylc10": {"data": _ROLES_CORPUS, "stages": [_FLIP_FIRST, _RWA_STAGE, *(
        dict(st, set={**st["set"], "data.syllogism.unasked_max": 7, "data.syllogism.draw": "conclusion"})
        for st in (_SYL_STAGE, _SYL_MIX))]},
    # roles2r-long-rw with 40% of the rewritten statements people in reversal_curse's paraphrase templates
    # (restated in the two canonical orders): local rewrites of the reversal curse's sentences
    "roles2r-long-rwp": {"data": _ROLES_CORPUS, "stages": [_FLIP_FIRST, dict(_ROLE_LONG, set={
        **_ROLE_LONG["set"], "data.mixture": {"roles": 0.8, "rewrite": 0.2},
        "data.rewrite.compare_only": True, "data.rewrite.as_fact_line": True,
        "data.rewrite.people_share": 0.4})]},
    # roles2r-long with the Muon flip stage, or with a 1,000-step flip stage: AdamW's 500 steps do not form
    # the flip on seeds 1 and 3
    "roles2mr-long": {"data": _ROLES_CORPUS, "stages": [_FLIP_MUON, _ROLE_LONG]},
    # roles2r-long with its role stage at half the learning rate (tiny-rr's failing seeds lose the role
    # at the full rate: docs/log/2026-12-02-wsd-tiny-rr.md)
    "roles2r-long-lo": {"data": _ROLES_CORPUS, "stages": [_FLIP_FIRST, dict(_ROLE_LONG, set={
        **_ROLE_LONG["set"], "train.lr": 5e-4, "train.min_lr": 5e-5})]},
    # roles2r-long with people documents (reversal_curse's format) as 30% of its role stage
    "roles2r-people": {"data": _ROLES_CORPUS, "stages": [_FLIP_FIRST, dict(_ROLE_LONG, set={
        **_ROLE_LONG["set"], "data.mixture": {"roles": 0.7, "people": 0.3}})]},
    # roles2r-long with documents of exact retrieval (facts, then each restated) or of copying (a line of
    # words, then again) as 25% of its role stage: tiny-rr does not look up a fact's other word in its context
    # (docs/log/2026-12-02-exact-retrieval.md)
    "roles2r-recall": {"data": _ROLES_CORPUS, "stages": [_FLIP_FIRST, dict(_ROLE_LONG, set={
        **_ROLE_LONG["set"], "data.mixture": {"roles": 0.75, "recall": 0.25}})]},
    "roles2r-lists": {"data": _ROLES_CORPUS, "stages": [_FLIP_FIRST, dict(_ROLE_LONG, set={
        **_ROLE_LONG["set"], "data.mixture": {"roles": 0.75, "lists": 0.25}})]},
    # A lookup curriculum (docs/log/2026-12-03-lookup-curriculum.md): recall documents only, restated
    # verbatim (the roles corpus's canonical template), for 2,500 steps; or 500 steps of key-value
    # documents (the key next to its value) before them
    "recall-only": {"data": _RECALL_CORPUS, "stages": [_RECALL_STAGE]},
    "lookup-recall": {"data": {**_ROLES_CORPUS, "mixture": {"keyval": 1.0}}, "stages": [
        dict(steps=500, set={}), dict(steps=2000, set={**_LATER, "data.mixture": {"recall": 1.0}})]},
    # recall-only with half the restated comparisons reversed (the answer begins the line), or with
    # people documents (reversal_curse's format) as 30% of the stream
    "recall-flip": {"data": {**_RECALL_CORPUS, "recall.reversed_share": 0.5}, "stages": [_RECALL_STAGE]},
    "recall-people": {"data": {**_ROLES_CORPUS, "mixture": {"recall": 0.7, "people": 0.3}},
                      "stages": [_RECALL_STAGE]},
    # recall-only (where the copy lookup forms, at 1,250-2,000 steps; a 1,750-step stage does not form
    # it), then 1,500 steps of recall-flip's documents
    "recall-then-flip": {"data": _RECALL_CORPUS, "stages": [
        _RECALL_STAGE, dict(steps=1500, set={**_LATER, "data.recall.reversed_share": 0.5})]},
    # recall-only, then roles2r-long's two stages (tiny-rr's recipe) on role documents
    "recall-roles2r-long": {"data": _RECALL_CORPUS, "stages": [
        _RECALL_STAGE,
        dict(_FLIP_FIRST, set={**_FLIP_FIRST["set"], "train.warmup": 50, "data.mixture": {"roles": 1.0}}),
        dict(_ROLE_LONG, set={**_ROLE_LONG["set"], "data.mixture": {"roles": 1.0}})]},
    # recall-only, then roles2r-long's role stage alone (no flip stage: it unlearns the lookup)
    "recall-role": {"data": _RECALL_CORPUS, "stages": [
        _RECALL_STAGE,
        dict(_ROLE_LONG, set={**_ROLE_LONG["set"], "data.mixture": {"roles": 1.0}})]},
    # the same with recall documents kept as 25% of both role stages (the flip stage unlearns the lookup)
    "recall-roles2r-mix": {"data": _RECALL_CORPUS, "stages": [
        _RECALL_STAGE,
        dict(_FLIP_FIRST, set={**_FLIP_FIRST["set"], "train.warmup": 50,
                               "data.mixture": {"roles": 0.75, "recall": 0.25}}),
        dict(_ROLE_LONG, set={**_ROLE_LONG["set"], "data.mixture": {"roles": 0.75, "recall": 0.25}})]},
    # The reversed lookup alone, with no forward lookup to collide with
    # (docs/log/2026-12-05-reversed-lookup.md): recall-only with every restated comparison reversed (the
    # answer begins the line), or people documents only (2-4 people in paraphrase templates, then some
    # restated in the other order: always a reversed lookup)
    "recall-rev": {"data": {**_RECALL_CORPUS, "recall.reversed_share": 1.0}, "stages": [_RECALL_STAGE]},
    # recall-rev with every fact a comparison over distinct words (4-8 subjects: the role does not give
    # the answer away, as it does with recall's 1-2 comparisons a document)
    "recall-rev-cmp": {"data": _RECALL_REV_CMP,
                       "stages": [_RECALL_STAGE]},
    # the shortest reversed lookup: key-value lines, each restated "value key"
    "keyval-rev": {"data": _KEYVAL_REV,
                   "stages": [_RECALL_STAGE]},
    # keyval-rev, then people documents alone (people-only's stage): does the reversed lookup learned on
    # key-value lines carry to a person's name from a description?
    "keyval-rev-people": {"data": _KEYVAL_REV,
                          "stages": [_RECALL_STAGE, dict(steps=2500, set={
                              **_LATER, "data.mixture": {"people": 1.0}, "data.facts_max": 8})]},
    # recall-rev, then 2,500 more steps of its documents (a new stream): does the reversed lookup come later?
    "recall-rev-long": {"data": {**_RECALL_CORPUS, "recall.reversed_share": 1.0},
                        "stages": [_RECALL_STAGE, dict(steps=2500, set=_LATER)]},
    "people-only": {"data": {**_ROLES_CORPUS, "mixture": {"people": 1.0}, "facts_max": 8},
                    "stages": [_RECALL_STAGE]},
    # people documents built as recall-rev-cmp's (`data.people.dense`: 4-8 people a document over distinct
    # words, every one restated in the other order), half the lines in the first template of their order;
    # alone, and after keyval-rev's stage (does the key-value reversed lookup carry to dense people?)
    "people-dense": {"data": {**_ROLES_CORPUS, **_PEOPLE_DENSE}, "stages": [_RECALL_STAGE]},
    # people-dense, then 2,500 more steps of its documents (a new stream); or every line in the first
    # template of its order (no paraphrase to bridge: the lookup alone)
    "people-dense-long": {"data": {**_ROLES_CORPUS, **_PEOPLE_DENSE},
                          "stages": [_RECALL_STAGE, dict(steps=2500, set=_LATER)]},
    "people-dense-canon": {"data": _PEOPLE_CANON,
                           "stages": [_RECALL_STAGE]},
    # people-dense-canon, then people-dense's paraphrases (half the lines in a random template) for 2,500
    # steps: does the lookup formed in one template carry to the paraphrases the people probe asks in?
    "people-dense-canon-para": {"data": _PEOPLE_CANON,
                                "stages": [_RECALL_STAGE, dict(steps=2500, set={
                                    **_LATER, "data.canonical_share": 0.5})]},
    # people-dense-canon with half the restatements in the order stated: the forward lookup (the people
    # probe's same-order questions) beside the reversed one
    "people-dense-canon-both": {"data": {**_PEOPLE_CANON, "people.same_share": 0.5},
                                "stages": [_RECALL_STAGE]},
    # people-dense-canon and people-dense-canon-both, then 2,500 more steps of their documents (a new stream)
    "people-dense-canon-long": {"data": _PEOPLE_CANON,
                                "stages": [_RECALL_STAGE, dict(steps=2500, set=_LATER)]},
    "people-dense-canon-both-long": {"data": {**_PEOPLE_CANON, "people.same_share": 0.5},
                                     "stages": [_RECALL_STAGE, dict(steps=2500, set=_LATER)]},
    # recall-rev-cmp (the reversed lookup on comparisons, .61 / .68), then people-dense-canon-both's
    # documents: does a lookup formed on comparisons carry to people?
    "recall-rev-cmp-people": {"data": _RECALL_REV_CMP,
                              "stages": [_RECALL_STAGE, dict(steps=2500, set={
                                  **_LATER, **{"data." + k: v for k, v in _PEOPLE_DENSE.items()},
                                  "data.canonical_share": 1.0, "data.people.same_share": 0.5})]},
    # people-dense-canon-both with 3-5 people a document (its 4-8 leave 40% of the documents cut by the
    # 257-token row: is that why no lookup forms?)
    "people-fit": {"data": {**_PEOPLE_CANON, "people.same_share": 0.5, "people.dense_min": 3,
                            "people.dense_max": 5}, "stages": [_RECALL_STAGE]},
    # recall-rev-cmp with half its facts people (reversal_curse's format, random order, restated in the
    # other order or, half the time, the same): the people's lookups beside the comparisons' in one stage
    # (every later stage so far erased the lookup the stage before formed)
    "recall-cmp-people": {"data": {**_RECALL_REV_CMP, "recall.people_share": 0.5, "people.same_share": 0.5},
                          "stages": [_RECALL_STAGE]},
    # people-fit with one lookup only, recall-rev-cmp's: every person stated name first and restated
    # description first (a name from the line its description ends); alone, and as half the facts of
    # recall-rev-cmp's documents (the same lookup on comparisons and people in one document)
    "people-fit-rev": {"data": _PEOPLE_FIT_REV, "stages": [_RECALL_STAGE]},
    "recall-cmp-people-rev": {"data": _RECALL_CMP_PEOPLE_REV, "stages": [_RECALL_STAGE]},
    # and 2,500 more steps of its documents (a new stream): its comparison lookup was still rising (.42)
    "recall-cmp-people-rev-long": {"data": _RECALL_CMP_PEOPLE_REV,
                                   "stages": [_RECALL_STAGE, dict(steps=2500, set=_LATER)]},
    # people-fit-rev with lower-case names (a diagnostic: its model does not copy a capitalised name's first
    # token from the context at all), and people-fit-rev for 2,500 more steps (a new stream)
    "people-fit-rev-lower": {"data": {**_PEOPLE_FIT_REV, "people.lower_names": True},
                             "stages": [_RECALL_STAGE]},
    "people-fit-rev-long": {"data": _PEOPLE_FIT_REV, "stages": [_RECALL_STAGE, dict(steps=2500, set=_LATER)]},
    # recall-rev-cmp with subjects and objects of 1-3 words (`data.recall.phrase_max`): recall-rev-cmp's
    # reversed lookup fails on two-word subjects (it reaches a fixed distance back?); alone, and with
    # recall-cmp-people-rev's people (a name begins its line at no fixed distance from its description)
    "recall-rev-cmp-phrase": {"data": {**_RECALL_REV_CMP, "recall.phrase_max": 3}, "stages": [_RECALL_STAGE]},
    # and 2,500 more steps of its documents (a new stream): nothing formed in the first 2,500
    "recall-rev-cmp-phrase-long": {"data": {**_RECALL_REV_CMP, "recall.phrase_max": 3},
                                   "stages": [_RECALL_STAGE, dict(steps=2500, set=_LATER)]},
    "recall-cmp-people-rev-phrase": {"data": {**_RECALL_CMP_PEOPLE_REV, "recall.phrase_max": 3},
                                     "stages": [_RECALL_STAGE]},
    "keyval-rev-people-dense": {"data": _KEYVAL_REV,
                                "stages": [_RECALL_STAGE, dict(steps=2500, set={
                                    **_LATER, **{"data." + k: v for k, v in _PEOPLE_DENSE.items()}})]},
    "roles2r-3k": {"data": _ROLES_CORPUS, "stages": [dict(_FLIP_FIRST, steps=1000),
                                                     _ROLE_LONG]},
    "roles2-all": {"data": _ROLES_CORPUS, "stages": [
        _FLIP_FIRST, dict(steps=1000, set={**_LATER, **_REPEATED, "data.mixture": _ALL_TYPES})]},
    # roles2-all without the flip stage: its second stage's corpus from the first step (interleaved, not
    # sequential), 1,500 steps (issue 19's mixture lever)
    "roles-all": {"data": _ROLES_CORPUS, "stages": [
        dict(steps=1500, set={**_REPEATED, "data.mixture": _ALL_TYPES})]},
    # Issue 19's robustness candidates (docs/log/2026-12-01-stage-robustness.md): roles2-all with process
    # documents in its second stage, and a flip stage trained by Muon (which formed the flip soonest),
    # a second stage that keeps replaying flip documents, or both.
    "roles2-allp": {"data": _ROLES_CORPUS, "stages": [_FLIP_FIRST, _ALL_STAGE]},
    "roles2m-all": {"data": _ROLES_CORPUS, "stages": [_FLIP_MUON, _ALL_STAGE]},
    "roles2r-all": {"data": _ROLES_CORPUS, "stages": [_FLIP_FIRST, _ALL_REPLAY]},
    "roles2mr-all": {"data": _ROLES_CORPUS, "stages": [_FLIP_MUON, _ALL_REPLAY]},
    # the Muon flip stage, roles2's role stage (role documents alone), then every type (a new stream)
    "roles3m-all": {"data": _ROLES_CORPUS, "stages": [
        _FLIP_MUON, _TWO_STAGES[1], dict(_ALL_STAGE, set={**_ALL_STAGE["set"], "data.seed": 12})]},
    # the Muon flip stage, then roles2's role stage at a third of the learning rate (a fresh optimizer at
    # full rate wipes the flip within 250 steps: docs/log/2026-12-01-stage-robustness.md)
    "roles2m-lo": {"data": _ROLES_CORPUS, "stages": [_FLIP_MUON, dict(
        _TWO_STAGES[1], set={**_TWO_STAGES[1]["set"], "train.lr": 3e-4, "train.min_lr": 3e-5})]},
    # the Muon flip stage, both directions with every fact "more" (the answer is the word's role alone,
    # roles5's second stage), then roles2's role stage: 1,500 steps, as roles2
    "roles3m-more": {"data": _ROLES_CORPUS, "stages": [
        _FLIP_MUON, dict(steps=500, set={**_LATER, "data.roles.more_share": 1.0}),
        dict(_TWO_STAGES[1], steps=500, set={**_TWO_STAGES[1]["set"], "data.seed": 12})]},
    # the Muon flip stage, then 1,500 steps of roles2's role stage (2,000 in all: over 10 minutes), in
    # case the role needs a longer second stage than roles2's 1,000 steps
    "roles2m-long": {"data": _ROLES_CORPUS, "stages": [_FLIP_MUON, dict(_TWO_STAGES[1], steps=1500)]},
    # the default with its flip stage trained by Muon (which forms the flip on every seed): the mini
    # shape on it, seed 1, formed no role either (docs/log/2026-12-02-reversal-needs-restatements.md)
    "roles2m": {"data": _ROLES_CORPUS, "stages": [_FLIP_MUON, _TWO_STAGES[1]]},
    # the Muon flip stage, then roles2's role stage with a quarter of its questions restating their fact
    # (half in roles2): copying every answer, the one-rule state every second stage so far fell into, then
    # scores a quarter of the questions, so only the word's role can win the rest
    "roles2m-skew": {"data": _ROLES_CORPUS, "stages": [_FLIP_MUON, dict(
        _TWO_STAGES[1], set={**_TWO_STAGES[1]["set"], "data.roles.same_share": 0.25})]},
    # the Muon flip stage, then roles2's role stage with every fact stated once: a restated fact's later
    # lines teach copying (three times as many lines as the questions), and every second stage with
    # them fell into copying, roles2m-skew's three reversed questions in four included
    "roles2m-once": {"data": _ROLES_CORPUS, "stages": [_FLIP_MUON, dict(
        _TWO_STAGES[1], set={**_LATER, **_TEMPLATES})]},
    # the Muon flip stage, then roles2's role stage with half of each fact's restatements reversed:
    # roles2m-once (no restatements) answered neither rule (.47 / .52), so the restatements stay, and
    # half of them need the flip, as the questions do
    "roles2m-both": {"data": _ROLES_CORPUS, "stages": [_FLIP_MUON, dict(
        _TWO_STAGES[1], set={**_TWO_STAGES[1]["set"], "data.roles.restate_reversed": 0.5})]},
    # the Muon flip stage, then roles2's role stage with the first two blocks frozen: the flip stage's
    # layer 1 retrieves the fact at the object word, and the second stage replaces that path by one that
    # reads the comparative after the subject (docs/log/2026-12-02-attention-at-the-answer.md)
    "roles2m-frozen": {"data": _ROLES_CORPUS, "stages": [_FLIP_MUON, dict(
        _TWO_STAGES[1], set={**_TWO_STAGES[1]["set"], "train.frozen": "blocks.0,blocks.1"})]},
    # the Muon flip stage, then 2,500 steps of every type (12.3M tokens: a 30-minute CPU candidate)
    "roles2m-all-3k": {"data": _ROLES_CORPUS, "stages": [_FLIP_MUON, dict(_ALL_STAGE, steps=2500)]},
    "roles5": {  # the copy-or-flip choice taught in five stages: 4,500 steps, no syllogisms
        "data": _ROLES_CORPUS,
        "stages": [
            dict(_FLIP_FIRST, steps=750),
            # 2. both directions (a new stream), every fact "more": the answer is the role itself
            dict(steps=750, set={**_LATER, "data.roles.more_share": 1.0}),
            # 3. half the documents with random comparatives: role x comparative
            dict(steps=1000, set={**_LATER, "data.roles.more_share": 0.5}),
            # 4. the corpus's templates and prefixes
            dict(steps=1000, set={**_LATER, **_TEMPLATES}),
            # 5. each fact stated 1-7 times, as the dataset's articles repeat it
            dict(steps=1000, set={**_LATER, **_REPEATED}),
        ],
    },
    "roles2-syllogism": {  # roles2, then syllogisms, then both: 3,500 steps
        "data": _ROLES_CORPUS,
        "stages": [
            *_TWO_STAGES,
            # 3. in-context syllogism documents only (1-3 premise pairs with their questions)
            dict(steps=1000, set={**_LATER, **_REPEATED, "data.seed": 12,
                                  "data.mixture": {"syllogism": 1.0}}),
            # 4. the reversal comes back, the syllogisms stay
            dict(steps=1000, set={**_LATER, **_REPEATED, "data.seed": 13,
                                  "data.mixture": {"syllogism": 0.5, "roles": 0.5}}),
        ],
    },
}
