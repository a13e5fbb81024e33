"""Augmentation: oracle outputs are valid, sampling is deterministic per seed, the report matches the
file, the model's output is read in the corpus's formats, and the cached decoder equals recomputation."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from minigen.augment import sampling
from minigen.augment.facts import TrainingFacts, parse_statement, sentences
from minigen.augment.generate import AugmentConfig, augment
from minigen.augment.prompts import global_outputs, local_outputs, rewrite_examples
from minigen.augment.report import read_records
from minigen.augment.run import write_augmentations
from minigen.augment.sampling import generate_recompute
from minigen.augment.splitting import budget_steps
from minigen.data.datasets import load_dataset
from minigen.data.english import NAME_SUFFIXES
from minigen.data.lexicon import Lexicon
from minigen.data.logic import Compare, Knowledge, contradict, reverse
from minigen.data.templates import parse, render
from minigen.errors import UserError
from minigen.eval.conditions import training_texts
from minigen.inference import generate

SIZES = {"reversal": 4, "syllogism": 9, "semantic": 12, "reversal_curse": 3}


@pytest.fixture(scope="module")
def tokenizer():
    from minigen.data.corpus import CorpusConfig
    from minigen.data.tokenizer import train_tokenizer

    return train_tokenizer(CorpusConfig(), num_documents=300)


def small_model(tokenizer, seed=0, newline_bias=0.0, init_std=0.02):
    """A random 1-layer model; `newline_bias` raises the logit of "\n" so that it writes short lines."""
    from minigen.config import ModelConfig
    from minigen.model import Transformer

    class Biased(Transformer):
        def forward(self, *args, **kwargs):
            logits, loss = super().forward(*args, **kwargs)
            logits[..., newline] += newline_bias
            return logits, loss

    (newline,) = tokenizer.encode("\n")
    torch.manual_seed(seed)
    cfg = ModelConfig(vocab_size=tokenizer.vocab_size, n_layer=1, n_head=2, d_model=32, seq_len=256,
                      init_std=init_std)
    return Biased(cfg).eval()


def training_knowledge(documents) -> Knowledge:
    """The engine over the training sentences, parsed independently of minigen.augment.facts."""
    forms = [f for d in documents for line in d.text.split("\n") if (f := parse(line)) is not None]
    return Knowledge(forms)


@pytest.mark.parametrize("name", list(SIZES))
@pytest.mark.parametrize("strategy", ["oracle-local", "oracle-global"])
def test_oracle_augmentations_are_all_valid(name, strategy, tmp_path):
    ds = load_dataset(name, size=SIZES[name])
    summary = write_augmentations(strategy, ds.train, ds.test, AugmentConfig(n=2), tmp_path / "a.jsonl")
    records = read_records(tmp_path / "a.jsonl")
    assert records and summary["generated"] == len(records)
    assert summary["valid"] == summary["parsed"] == len(records)
    facts = TrainingFacts.from_documents(ds.train)
    for r in records:
        form = parse_statement(r["text"])
        assert form is not None and facts.knowledge.follows(form), r
        assert r["strategy"] == strategy and r["source"] in {d.id for d in ds.train}


def test_oracle_global_states_the_answers_a_finetuned_model_must_infer(tmp_path):
    ds = load_dataset("syllogism", size=9)
    cfg = AugmentConfig(n=4)
    summary = write_augmentations("oracle-global", ds.train, ds.test, cfg, tmp_path / "a.jsonl")
    assert summary["test_items_answered"]["syllogism"] == {"answered": 9, "items": 9}
    ds = load_dataset("reversal_curse", size=3)
    summary = write_augmentations("oracle-global", ds.train, ds.test, cfg, tmp_path / "b.jsonl")
    assert summary["test_items_answered"]["reversed"]["answered"] == 6  # name->desc and desc->name subsets


@pytest.mark.parametrize("name", list(SIZES))
@pytest.mark.parametrize("kind", ["local", "global"])
def test_placebo_is_the_oracle_renamed_and_says_nothing_about_the_evaluated_words(name, kind, tmp_path):
    import re

    ds = load_dataset(name, size=SIZES[name])
    cfg = AugmentConfig(n=2)
    oracle = write_augmentations(f"oracle-{kind}", ds.train, ds.test, cfg, tmp_path / "o.jsonl")
    placebo = write_augmentations(f"placebo-{kind}", ds.train, ds.test, cfg, tmp_path / "p.jsonl")
    before, after = read_records(tmp_path / "o.jsonl"), read_records(tmp_path / "p.jsonl")
    assert len(after) == len(before) > 0 and placebo["parsed"] == len(after)
    assert placebo["valid"] == placebo["states_answer"] == 0 < oracle["valid"]
    lex = Lexicon(0)
    evaluated, pool = set(lex.eval_words), set(lex.pretrain_words)
    renamed: dict = {}
    for o, p in zip(before, after, strict=True):
        assert p["source"] == o["source"] and p["strategy"] == f"placebo-{kind}"
        old, new = re.findall(r"[A-Za-z]+", o["text"]), re.findall(r"[A-Za-z]+", p["text"])
        assert re.sub(r"[A-Za-z]+", "w", o["text"]) == re.sub(r"[A-Za-z]+", "w", p["text"])  # the template
        for a, b in zip(old, new, strict=True):
            if a != b:  # an evaluation word (or name), always renamed to the same pool word in a document
                assert renamed.setdefault((o["source"], a), b) == b
                assert any(b.lower().removesuffix(x) in pool for x in ("", *NAME_SUFFIXES)), b
        assert not any(w.lower() in evaluated for w in new), p["text"]
    with pytest.raises(UserError, match="process"):
        ds = load_dataset("process", size=2)
        write_augmentations(f"placebo-{kind}", ds.train, ds.test, cfg, tmp_path / "q.jsonl")


@pytest.mark.parametrize("strategy", ["local", "global"])
def test_model_augmentation_is_deterministic_per_seed(strategy, tokenizer):
    ds = load_dataset("syllogism", size=3)
    model = small_model(tokenizer, newline_bias=6.0)

    def run(seed):
        cfg = AugmentConfig(n=2, seed=seed, local_tokens=24, global_tokens=24, temperature=1.0)
        batches = list(augment(strategy, ds.train, cfg, model, tokenizer))
        return [r for b in batches for r in b.records], sum(b.samples for b in batches)

    (first, samples), (again, _), (other, _) = run(0), run(0), run(1)
    assert samples == 2 * (len(ds.train) if strategy == "global" else sum(len(sentences(d.text))
                                                                          for d in ds.train))
    assert first and first == again
    assert first != other


class ScriptedModel:
    """Writes the rewrite format perfectly but not always truthfully: for the prompt's last
    statement, its reversal (valid), its contradiction, a line that is not a statement, then a new
    rewrite block of its own (which the reader must cut off), then the end of the document."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.cfg = SimpleNamespace(seq_len=256)

    def generate(self, prompts, max_new_tokens, temperature=0.0, top_k=None, stop_id=None, seed=None):
        outs = []
        for p in prompts:
            statement = self.tokenizer.decode(p[1:]).split("\n")[-3]
            fact = parse(statement)
            text = "\n".join([render(reverse(fact)), render(contradict(fact)), "Glorp blorp indeed.",
                              "femp are more dangerous than glon.", "In other words:", "x"])
            outs.append(self.tokenizer.encode(text) + [stop_id])
        return outs


@pytest.fixture
def scripted_sampling(monkeypatch):
    """Sampling asks a scripted model's own `generate` instead of minigen.inference's."""
    monkeypatch.setattr(sampling, "generate", lambda model, *args, **kwargs: model.generate(*args, **kwargs))


def test_report_counts_match_the_file(tokenizer, tmp_path, scripted_sampling):
    ds = load_dataset("reversal", size=3)
    path = tmp_path / "local.jsonl"
    summary = write_augmentations("local", ds.train, ds.test, AugmentConfig(n=2), path,
                                  ScriptedModel(tokenizer), tokenizer)
    records = read_records(path)
    samples = 2 * len(ds.train)
    assert summary["samples"] == samples and summary["empty_samples"] == 0
    assert summary["generated"] == len(records) == 3 * samples
    knowledge = training_knowledge(ds.train)
    forms = [parse(r["text"]) for r in records]
    assert summary["parsed"] == sum(f is not None for f in forms) == 2 * samples
    assert summary["valid"] == sum(f is not None and knowledge.follows(f) for f in forms) == samples
    assert summary["contradicts"] == samples
    assert summary["new"] == 2 * samples  # reversals and contradictions: no training sentence says them
    assert summary["states_answer"] == sum(bool(r["answers"]) for r in records) == samples
    assert summary["test_items_answered"]["reversal"] == {"answered": 3, "items": 3}
    assert all(r["input"] is not None and r["strategy"] == "local" for r in records)


def test_reading_the_formats_back():
    text = "glon are less dangerous than femp.\nAll femp are glon.\nyomp are red.\nIn other words:\nyomp"
    assert local_outputs(text, ended=False) == ["glon are less dangerous than femp.", "All femp are glon."]
    assert local_outputs("a b c.\nd e", ended=False) == ["a b c."]
    assert local_outputs("a b c.\nd e", ended=True) == ["a b c.", "d e"]
    # the token limit cut a new block's label: its statement is not a restatement (a people rewrite
    # block's two restatements, then the next block's statement, as the models write them)
    two = "Ab Cd is the x of the y z.\nThe x of the y z is Ab Cd.\n"
    for cut in ("In other words:", "In other wo", "In o"):
        assert local_outputs(two + "By all accounts, the w of the u v is Ef Gh.\n" + cut, ended=False) == [
            "Ab Cd is the x of the y z.", "The x of the y z is Ab Cd."]
    for partial in ("In", "In the town", "The x"):  # not (yet) a label: only the cut line goes
        assert len(local_outputs(two + "Ef Gh is the w of the u v.\n" + partial, ended=False)) == 3
    assert len(local_outputs(two + "In other", ended=True)) == 3  # a line the model ended with is kept
    assert global_outputs("x.\ny.\nIt follows that:\nz.", ended=True) == ["x.", "y."]


def test_rewrite_examples_use_pretraining_words_and_the_same_kind_of_statement():
    import random

    lex = Lexicon(0)
    allowed = set(lex.pretrain_words)
    for seed in range(5):
        blocks = rewrite_examples(random.Random(seed), "pern are more curious than denk.", k=3)
        assert len(blocks) == 3 and all("\nIn other words:\n" in b for b in blocks)
        assert any(isinstance(parse(b.split("\n")[0]), Compare) for b in blocks)
        words = {w for b in blocks for w in b.replace(".", " ").split()}
        assert not words & set(lex.eval_words) and words & allowed
        one = rewrite_examples(random.Random(seed), "pern are more curious than denk.", k=1)
        assert len(one) == 1 and isinstance(parse(one[0].split("\n")[0]), Compare)  # the same kind
    assert rewrite_examples(random.Random(0), "pern are more curious than denk.", k=0) == []


def test_cached_sampling_equals_recomputation_at_temperature_zero(tokenizer):
    # Larger weights: a random model whose greedy output varies (not one token repeated).
    model = small_model(tokenizer, seed=1, init_std=0.3)
    prompts = [[tokenizer.bos_id, *tokenizer.encode(t)] for t in
               ("All femp are glon.\nIn other words:\n", "glon are red.\n", "Did you know that yomp")]
    cached = generate(model, prompts, 40, temperature=0.0)
    assert all(len(set(out)) > 5 for out in cached)
    assert cached == generate_recompute(model, prompts, 40)
    stop = cached[0][7]
    stopped = generate(model, prompts[:1], 40, temperature=0.0, stop_id=stop)
    expected = cached[0][: cached[0].index(stop) + 1]
    assert stopped == generate_recompute(model, prompts[:1], 40, stop_id=stop) == [expected]


def test_sentence_splitting_and_the_token_budget():
    docs = [SimpleNamespace(id="d", text="A x.\nQ: What do glon have?\nA: wings.\nB y.")]
    assert training_texts(docs, "independent") == ["A x.", "Q: What do glon have?\nA: wings.", "B y."]
    assert training_texts(docs, "cumulative")[-1] == docs[0].text
    assert training_texts(docs, "none") == [docs[0].text]
    assert budget_steps([[0] * 30], 100, [[0] * 10]) == 300


def test_a_crash_mid_way_keeps_what_was_generated(tokenizer, tmp_path, scripted_sampling):
    class CrashingModel(ScriptedModel):
        calls = 0

        def generate(self, prompts, *args, **kwargs):
            self.calls += 1
            if self.calls > 1:
                raise RuntimeError("out of memory")
            return super().generate(prompts, *args, **kwargs)

    ds = load_dataset("reversal", size=2)
    path = tmp_path / "local.jsonl"
    with pytest.raises(RuntimeError):
        write_augmentations("local", ds.train, ds.test, AugmentConfig(n=1, batch_size=4), path,
                            CrashingModel(tokenizer), tokenizer)
    assert len(read_records(path)) == 3 * 4  # the first batch: 4 samples, 3 statements each


class Answerer:
    """After a syllogism question, answers with the strongest conclusion the engine derives about the
    two asked words (the right answer) and goes on to ask another question, which the reader must drop."""

    def __init__(self, tokenizer, knowledge):
        self.tokenizer, self.knowledge = tokenizer, knowledge
        self.cfg = SimpleNamespace(seq_len=256)
        self.prompts = []

    def generate(self, prompts, max_new_tokens, temperature=0.0, top_k=None, stop_id=None, seed=None):
        import re

        from minigen.data.doctypes.common import canonical
        from minigen.data.logic import Quant
        outs = []
        for p in prompts:
            text = self.tokenizer.decode(p[1:])
            self.prompts.append(text)
            x, y = re.search(r"Question: what follows about (\w+) and (\w+)\?\nAnswer:$", text).groups()
            best = next(Quant(q, a, b) for q in ("all", "no", "some") for a, b in ((x, y), (y, x))
                        if self.knowledge.follows(Quant(q, a, b)))
            more = "\nQuestion: what follows about"
            outs.append(self.tokenizer.encode(f" {canonical(best)}{more}") + [stop_id])
        return outs


def test_question_prompts_ask_about_each_unlinked_pair_and_keep_one_answer(tokenizer, scripted_sampling):
    """aug.global_prompt=question: one prompt per document and unlinked pair of its words (a premise pair's
    two end terms), in the syllogism documents' question format; the answer line is the record, what
    follows it is not."""
    from minigen.augment.prompts import end_term_pairs

    ds = load_dataset("syllogism", size=6)
    model = Answerer(tokenizer, training_knowledge(ds.train))
    cfg = AugmentConfig(n=1, temperature=0.0, global_prompt="question")
    records = [r for b in augment("global", ds.train, cfg, model, tokenizer) for r in b.records]
    pairs = {d.text: end_term_pairs(d.text) for d in ds.train}
    assert all(len(p) == 1 for p in pairs.values())  # two premises over three words: one pair
    assert len(model.prompts) == len(ds.train) and sorted(r["source"] for r in records) == sorted(
        d.id for d in ds.train)
    asked = set()
    for prompt in model.prompts:
        *before, question, answer = prompt.split("\n")
        doc = "\n".join(before[-2:])  # the document itself comes last, right before its question
        x, y = question.removeprefix("Question: what follows about ").removesuffix("?").split(" and ")
        assert answer == "Answer:" and {x, y} == set(pairs[doc][0])
        asked.add(doc)
    assert asked == set(pairs)
    knowledge = training_knowledge(ds.train)
    assert all(r["unit"] == 0 and knowledge.follows(parse(r["text"])) for r in records)
    # aug.keep_question: the finetuning document is the question and its answer, in the corpus's format
    from minigen.augment.conditions import augmentation_documents

    by_source = {r["source"]: r for r in records}
    for doc in augmentation_documents(records, keep_question=True):
        r = by_source[doc.id.split("/")[2]]
        assert doc.text == f"{r['question']}\nAnswer: {r['text']}" and r["question"].startswith("Question: ")
    assert [d.text for d in augmentation_documents(records)] == [r["text"] for r in records]
    assert end_term_pairs("All a are b.\nSome b are c.\nNo c are d.") == [("a", "c"), ("a", "d"), ("b", "d")]
    assert end_term_pairs("glon are less dangerous than femp.") == []


def test_header_prompts_stay_the_default_and_a_wrong_prompt_kind_is_refused(tokenizer, scripted_sampling):
    from minigen.data.templates import INFERENCE_HEADER

    ds = load_dataset("syllogism", size=3)
    model = Answerer(tokenizer, training_knowledge(ds.train))
    model.generate = lambda prompts, *a, **k: [model.prompts.append(tokenizer.decode(p[1:])) or [k["stop_id"]]
                                               for p in prompts]
    assert list(augment("global", ds.train, AugmentConfig(n=1), model, tokenizer))
    assert len(model.prompts) == len(ds.train)
    assert all(p.endswith(f"\n{INFERENCE_HEADER}\n") and "Question:" not in p for p in model.prompts)
    with pytest.raises(UserError, match="global_prompt"):
        AugmentConfig(global_prompt="answer")


def test_oracle_and_placebo_carry_the_question_of_their_inference_with_question_prompts():
    """So that aug.keep_question gives the oracle (upper bound) and the placebo (control) the same form as
    the model's own answers; the placebo's question is renamed as its statement is."""
    import re

    ds = load_dataset("syllogism", size=6)
    cfg = AugmentConfig(n=2, global_prompt="question")
    for strategy in ("oracle-global", "placebo-global"):
        records = [r for b in augment(strategy, ds.train, cfg) for r in b.records]
        assert records and all("question" in r for r in records)
        for r in records:
            form = parse(r["text"])
            asked = re.fullmatch(r"Question: what follows about (\w+) and (\w+)\?", r["question"]).groups()
            assert asked == (form.s, form.p)
    plain = [r for b in augment("oracle-global", ds.train, AugmentConfig(n=2)) for r in b.records]
    assert plain and not any("question" in r for r in plain)
