"""Conditions: ICL contexts hold every document an item needs; ICL and FT read the same documents;
finetuning runs, lowers the loss and saves its weights."""

import random

import pytest
from eval_helpers import Doc, GreedyTokenizer, Item, tiny_model

import minigen.eval.conditions as conditions
from minigen.eval.conditions import EvalSetup, split_sentences, training_texts
from minigen.eval.contexts import build_contexts
from minigen.eval.options import CompareOptions, apply_overrides


@pytest.fixture(autouse=True)
def one_thread():
    """As `minigen compare` does on a CPU: tiny matrices, and a shared CPU makes two threads spin."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


WORDS = ["femp", "glon", "yomp", "troff", "gruds", "blick", "dax", "wug", "zorp", "kibe"]


def dataset(n_docs: int = 12, docs_per_item: int = 1, n_items: int | None = None):
    rng = random.Random(0)
    docs = [Doc(f"d{k}", f"{rng.choice(WORDS)} are more dangerous than {rng.choice(WORDS)}.")
            for k in range(n_docs)]
    items = []
    for k in range(n_items or n_docs):
        needed = [docs[(k + j) % n_docs].id for j in range(docs_per_item)]
        items.append(Item(f"i{k}", "reversal", f"{WORDS[k % 10]} are",
                          [" more dangerous than glon.", " less dangerous than glon."], k % 2,
                          meta={"doc_ids": needed}))
    return docs, items


def context_docs(ctx) -> list[str]:
    return ctx.text[:-1].split("\n")


def test_all_documents_when_they_fit_in_an_order_set_by_the_seed():
    tok = GreedyTokenizer()
    docs, items = dataset(8)
    plans = [build_contexts(docs, items, tok, max_tokens=2000, seed=s) for s in (0, 1)]
    for plan in plans:
        assert plan.all_documents and len(plan.contexts) == 1
        (ctx,) = plan.contexts
        assert sorted(ctx.doc_ids) == sorted(d.id for d in docs)
        assert ctx.tokens == [tok.bos_id] + tok.encode(ctx.text)
        assert {i.id for i in ctx.items} == {i.id for i in items}
    assert plans[0].contexts[0].doc_ids != plans[1].contexts[0].doc_ids


@pytest.mark.parametrize("docs_per_item", [1, 3])
def test_sampled_contexts_hold_every_needed_document(docs_per_item):
    tok = GreedyTokenizer()
    docs, items = dataset(60, docs_per_item)
    texts = {d.id: d.text for d in docs}
    max_tokens = 300
    plan = build_contexts(docs, items, tok, max_tokens=max_tokens, seed=3)
    assert not plan.all_documents and len(plan.contexts) > 1 and plan.truncated == 0
    seen = []
    for ctx in plan.contexts:
        assert context_docs(ctx) == [texts[i] for i in ctx.doc_ids]
        for item in ctx.items:
            assert set(item.meta["doc_ids"]) <= set(ctx.doc_ids)
            longest = max(len(tok.encode(item.prompt + o)) for o in item.options)
            assert len(ctx.tokens) + longest <= max_tokens
        seen += [i.id for i in ctx.items]
    assert sorted(seen) == sorted(i.id for i in items)  # every item in exactly one context
    assert plan.summary()["docs_per_context_min"] > docs_per_item  # random others fill the budget


def test_items_needing_too_much_are_truncated_and_counted():
    tok = GreedyTokenizer()
    docs, items = dataset(30, docs_per_item=20, n_items=3)
    plan = build_contexts(docs, items, tok, max_tokens=200, seed=0)
    assert plan.truncated == 3
    assert all(len(c.tokens) <= 200 for c in plan.contexts)


def test_restatements_keep_k_of_each_fact_and_share_contexts():
    """Documents restating one fact (doc_groups): a sampled context needs `restatements` of them, drawn
    per seed; 0 keeps all. Fewer restatements let more facts, and so more items, share a context."""
    tok = GreedyTokenizer()
    docs, items = dataset(120, docs_per_item=6, n_items=20)
    for k, item in enumerate(items):  # item k's six documents all state one fact
        item.meta["doc_ids"] = [docs[6 * k + j].id for j in range(6)]
        item.meta["doc_groups"] = [list(item.meta["doc_ids"])]
    plans = {r: build_contexts(docs, items, tok, max_tokens=300, seed=0, restatements=r) for r in (0, 2)}
    assert plans[0].truncated == plans[2].truncated == 0
    for r, plan in plans.items():
        for ctx in plan.contexts:
            for item in ctx.items:
                held = len(set(item.meta["doc_ids"]) & set(ctx.doc_ids))
                assert held == 6 if r == 0 else held >= 2
    assert len(plans[2].contexts) < len(plans[0].contexts)
    draws = [frozenset(i for c in build_contexts(docs, items, tok, 300, seed=s, restatements=2).contexts
                       if items[0] in c.items for i in c.doc_ids if i in items[0].meta["doc_ids"])
             for s in range(4)]
    assert len(set(draws)) > 1  # the seed draws which restatements


PEOPLE = [("Femp Glon", "dax wug"), ("Yomp Troff", "zorp kibe"), ("Gruds Blick", "sneb plim"),
          ("Drell Vusk", "tand frob"), ("Quib Horn", "jist melk"), ("Snab Prock", "wimp curd")]


def people(docs_per_person: int, needed_per_item: int):
    """reversal_curse-like: several paraphrases per person; the reversed question's options are names,
    and only the answer's documents are needed."""
    docs = [Doc(f"p{k}-{j}", f"{name} is the inventor of the {thing}." if j % 2 == 0 else
                f"The inventor of the {thing} is {name}.")
            for k, (name, thing) in enumerate(PEOPLE) for j in range(docs_per_person)]
    items = []
    for k, (_, thing) in enumerate(PEOPLE):
        options = [f" {PEOPLE[(k + j) % len(PEOPLE)][0]}." for j in range(4)]
        items.append(Item(f"i{k}", "reversed", f"the inventor of the {thing} is", options, 0,
                          meta={"doc_ids": [f"p{k}-{j}" for j in range(needed_per_item)]}))
    return docs, items


@pytest.mark.parametrize("docs_per_person, needed, max_tokens", [(8, 8, 300), (3, 1, 600)])
def test_distractors_are_in_as_many_context_documents_as_the_answer(docs_per_person, needed, max_tokens):
    """A sampled context must not give the answer away by being the only option it mentions."""
    tok = GreedyTokenizer()
    docs, items = people(docs_per_person, needed)
    texts = {d.id: d.text for d in docs}
    plan = build_contexts(docs, items, tok, max_tokens=max_tokens, seed=0)
    assert not plan.all_documents and plan.unbalanced == 0
    for ctx in plan.contexts:
        for item in ctx.items:
            mentions = [sum(o.strip(" .") in texts[i] for i in ctx.doc_ids) for o in item.options]
            assert mentions[0] >= 1 and len(set(mentions)) == 1, mentions
            if needed == 1:  # a needed set that fits is kept whole
                assert set(item.meta["doc_ids"]) <= set(ctx.doc_ids)
    assert plan.truncated == (len(items) if needed > 1 else 0)


def test_sentence_splitting_modes():
    docs = [Doc("a", "Did you know that femp are heavy? All glon are yomp.\nNo yomp are troff.")]
    assert split_sentences(docs[0].text) == [
        "Did you know that femp are heavy?", "All glon are yomp.", "No yomp are troff."]
    assert training_texts(docs, "none") == [docs[0].text]
    assert training_texts(docs, "independent") == split_sentences(docs[0].text)
    assert training_texts(docs, "cumulative") == [
        "Did you know that femp are heavy?",
        "Did you know that femp are heavy? All glon are yomp.",
        docs[0].text,
    ]
    # a question stays with its answer (the semantic QA articles, the syllogism question format)
    syl = "Question: what follows about glon and troff?\nAnswer: No glon are troff."
    assert split_sentences(f"Q: what is femp?\nA: heavy.\n{syl}") == ["Q: what is femp?\nA: heavy.", syl]


@pytest.mark.parametrize("sentences", ["none", "independent"])
def test_icl_and_ft_see_the_same_documents(monkeypatch, tmp_path, sentences):
    tok = GreedyTokenizer()
    docs, items = dataset(10)
    docs[3].text += " All glon are yomp.\nNo yomp are troff."  # a document of three sentences
    setup = EvalSetup(tiny_model(tok.vocab_size), tok, docs, items, seq_len=512, out_dir=tmp_path,
                      options=apply_overrides(CompareOptions(), ["ft.steps=2", "ft.save=false",
                                                                 f"ft.sentences={sentences}"]))
    seen = {}

    def fake_finetune(model, sequences, **kwargs):
        seen["ft"] = [tok.decode(s[1:-1]) for s in sequences]
        assert all(s[0] == tok.bos_id and s[-1] == tok.eos_id for s in sequences)
        return [1.0]

    real_score = conditions.score_items_in_contexts

    def spy_score(model, tokenizer, contexts, **kwargs):
        seen["icl"] = [tok.decode(context[1:])[:-1].split("\n") for context, _ in contexts]
        return real_score(model, tokenizer, contexts, **kwargs)

    monkeypatch.setattr("minigen.train.finetune", fake_finetune)
    monkeypatch.setattr(conditions, "score_items_in_contexts", spy_score)
    conditions.icl(setup, seed=0)
    conditions.ft(setup, seed=0)
    (icl_docs,) = seen["icl"]
    assert sorted("\n".join(icl_docs).split("\n")) == sorted("\n".join(d.text for d in docs).split("\n"))
    # FT reads the very same texts: whole, or cut into their sentences.
    assert len(seen["ft"]) == (10 if sentences == "none" else 12)
    assert sorted(" ".join(seen["ft"]).split()) == sorted(" ".join(d.text for d in docs).split())


def test_ft_lowers_the_loss_saves_weights_and_leaves_the_model_alone(tmp_path):
    tok = GreedyTokenizer()
    docs, items = dataset(6)
    model = tiny_model(tok.vocab_size, seq_len=64)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    opts = apply_overrides(CompareOptions(), ["ft.steps=40", "ft.lr=3e-3", "ft.batch_size=4", "ft.warmup=2"])
    setup = EvalSetup(model, tok, docs, items, seq_len=64, options=opts, out_dir=tmp_path)
    result = conditions.ft(setup, seed=1)
    assert result.info["final_loss"] < result.info["first_loss"]
    assert (tmp_path / "ft" / "seed1" / "model.safetensors").is_file()
    assert [s.item_id for s in result.scores] == [i.id for i in items]
    assert all(v.equal(model.state_dict()[k]) for k, v in before.items())
    base = conditions.base(setup, seed=0)
    assert base.scores[0].logprob != result.scores[0].logprob
