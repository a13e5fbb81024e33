"""The exact-retrieval measure (`minigen.eval.retrieval`) asks what its docstring says, its role
heuristic is computed on its own options, and the pretraining probe runs it on dev words."""


from minigen.data.datasets.common import eval_words
from minigen.data.logic import Compare
from minigen.data.templates import parse
from minigen.eval.retrieval import FACTS, KINDS, line_completion, lookup, pair_lookup, people_lookup

DEV = eval_words("reversal", 0, 0, "dev")


class Tok:
    """Bytes as tokens: what the fake generators below write is what the measures read."""

    bos_id = 0

    def encode(self, text):
        return list(text.encode())

    def decode(self, ids):
        return bytes(ids).decode()


def test_lookup_items_ask_for_a_word_of_their_context_in_its_own_line_or_reversed():
    planned = lookup(DEV, 10)
    assert len(planned.contexts) == 10
    for text, items in planned.contexts:
        facts = [parse(line) for line in text.strip().split("\n")]
        assert len(facts) == FACTS and all(isinstance(f, Compare) for f in facts)
        words = {w for f in facts for w in (f.a, f.b)}
        assert len(items) == 2 * FACTS and [t.split for t in items] == list(KINDS) * FACTS
        for j, (copy, flip) in enumerate(zip(items[::2], items[1::2], strict=True)):
            f = facts[j]
            assert copy.options[copy.answer] == f" {f.b}." and copy.prompt.startswith(f.a + " ")
            assert flip.options[flip.answer] == f" {f.a}." and flip.prompt.startswith(f.b + " ")
            for t in (copy, flip):
                assert len(t.options) == 4 and {o[1:-1] for o in t.options} <= words
                assert parse(t.prompt + t.options[t.answer]) is not None  # a whole comparison
    # the role heuristic: 1 / (options standing in the answer's role), so between chance and 1
    for kind in KINDS:
        assert 0.25 < planned.baseline(kind) < 1.0
    objects = {t.id: {f.b for f in map(parse, text.strip().split("\n"))} for text, items in planned.contexts
               for t in items}
    t = planned.items("flip")[0]
    assert planned.heuristic[t.id] == 1 / sum(o[1:-1] not in objects[t.id] for o in t.options)


def test_pair_lookup_asks_a_key_for_its_value_and_a_value_for_its_key():
    planned = pair_lookup(DEV, 10)
    for text, items in planned.contexts:
        pairs = [tuple(line.split(" ")) for line in text.strip().split("\n")]
        assert len(pairs) == FACTS and all(len(p) == 2 for p in pairs)
        words = {w for p in pairs for w in p}
        assert len(words) == 2 * FACTS and [t.split for t in items] == list(KINDS) * FACTS
        for (key, value), copy, flip in zip(pairs, items[::2], items[1::2], strict=True):
            assert (copy.prompt, copy.options[copy.answer]) == (key, f" {value}\n")
            assert (flip.prompt, flip.options[flip.answer]) == (value, f" {key}\n")
            for t, column in ((copy, {v for _, v in pairs}), (flip, {k for k, _ in pairs})):
                assert len(set(t.options)) == 4 and {o.strip() for o in t.options} <= words
                assert planned.heuristic[t.id] == 1 / sum(o.strip() in column for o in t.options)
    assert all(0.25 < planned.baseline(kind) < 1.0 for kind in KINDS)


def test_people_lookup_asks_each_person_in_the_stated_order_and_in_the_other():
    planned = people_lookup(eval_words("reversal_curse", 0, 0, "dev"), 10)
    for text, items in planned.contexts:
        lines = text.strip().split("\n")
        assert len(lines) == FACTS and [t.split for t in items] == list(KINDS) * FACTS
        for line, copy, flip in zip(lines, items[::2], items[1::2], strict=True):
            name_first = not line.startswith("The ")
            for t in (copy, flip):
                answer = t.options[t.answer]
                assert len(set(t.options)) == 4 and t.prompt.endswith(" is") and answer.endswith(".")
                # the prompt and its answer are a line of the context, in the first template of an order
                first, second = t.prompt[: -len(" is")], answer[1:-1]
                asked = f"{first} is {second}."
                lowered = "t" + first[1:] if first.startswith("The ") else first  # a description mid-line
                stated = f"{second[:1].upper() + second[1:]} is {lowered}."
                assert line == (asked if t is copy else stated)
                assert planned.asks[t.id] == ("name" if first.startswith("The ") else "desc")
                assert all(o[1:-1] in text or o[1:-1].capitalize() in text for o in t.options)
            asks_name = [t.prompt.startswith("The ") for t in (copy, flip)]
            assert asks_name == [not name_first, name_first]
    assert planned.baseline("copy") < 0.1 and 0.35 < planned.baseline("flip") < 0.6  # the order heuristic


def test_people_lookup_lower_names_asks_the_same_items_in_lower_case():
    words = eval_words("reversal_curse", 0, 0, "dev")
    upper, lower = people_lookup(words, 5), people_lookup(words, 5, lower_names=True)
    for (text, items), (low_text, low_items) in zip(upper.contexts, lower.contexts, strict=True):
        assert low_text != text and low_text.lower() == text.lower()
        assert [t.answer for t in items] == [t.answer for t in low_items]
        lowered = [[o.lower() for o in t.options] for t in items]
        assert lowered == [[o.lower() for o in t.options] for t in low_items]


def test_lookup_accuracy_counts_each_kind_on_its_own_items():
    planned = lookup(DEV, 5)
    right = {t.id: t.split == "copy" for t in planned.items("copy") + planned.items("flip")}
    assert planned.accuracy(right, "copy") == 1.0 and planned.accuracy(right, "flip") == 0.0


def test_line_completion_counts_only_a_line_written_exactly(monkeypatch):
    """A model that writes the asked line back scores 1, one that writes another line 0."""
    import minigen.eval.retrieval as retrieval

    for cheat, expected in ((True, 1.0), (False, 0.0)):
        def fake(model, prompts, n, cheat=cheat):
            text = bytes(prompts[0][1:]).decode()
            lines, first = text.split("\n")[:-1], text.split("\n")[-1]
            mine = [line for line in lines if line.startswith(first + " ")]
            other = [line for line in lines if not line.startswith(first + " ")]
            line = mine[0] if cheat else other[0]
            return [list(line[len(first):].encode())[:n] if cheat else list(line.encode())[:n]]

        monkeypatch.setattr(retrieval, "generate", fake)
        assert line_completion(None, Tok(), DEV, n=8, seed=3) == expected


def test_the_probe_runs_retrieval_on_dev_words_beside_its_baselines(run_dir):
    import torch

    from minigen.checkpoint import load_run
    from minigen.probe import RETRIEVAL_CONTEXTS, Probe

    model, tok, cfg = load_run(run_dir)
    cfg.train.probe_items = 4
    probe = Probe(cfg, tok, torch.device("cpu"))
    assert probe.retrieval is not None and list(probe.retrieval.lookups) == ["retrieval", "people_lookup"]
    assert len(probe.retrieval.contexts) == 2 * RETRIEVAL_CONTEXTS
    assert probe.retrieval.words["retrieval"] == DEV
    assert probe.retrieval.words["people_lookup"] == eval_words("reversal_curse", 0, 0, "dev")
    b = probe.baselines
    assert b["retrieval_copy"]["chance"] == 0.25 and 0.25 < b["retrieval_copy"]["role"] < 1.0
    assert b["retrieval_line"] == {"chance": 0.0} and b["people_lookup_flip"]["chance"] == 0.25
    assert 0.25 < b["people_lookup_flip"]["order"] < 1.0
    got = probe.run(model)
    for key in ("retrieval_copy", "retrieval_flip", "retrieval_line", "people_lookup_copy",
                "people_lookup_flip"):
        assert 0.0 <= got[f"probe_{key}"] <= 1.0


def test_the_probe_leaves_out_a_lookup_whose_tokens_the_stream_never_shows(run_dir):
    import torch

    from minigen.checkpoint import load_run
    from minigen.eval.coverage import item_tokens
    from minigen.probe import Probe, RetrievalProbe

    model, tok, cfg = load_run(run_dir)
    everything = RetrievalProbe(cfg, tok)
    people = [t for _, items in everything.lookups["people_lookup"].contexts for t in items]
    seen = item_tokens(tok, [t for _, items in everything.lookups["retrieval"].contexts for t in items])
    counts = {"counts": [int(i in seen) for i in range(tok.vocab_size)], "rows_sampled": 1}
    kept = RetrievalProbe(cfg, tok, counts)
    assert list(kept.lookups) == ["retrieval"] and not item_tokens(tok, people) <= seen
    cfg.train.probe_items = 4
    probe = Probe(cfg, tok, torch.device("cpu"), counts)
    assert "probe_people_lookup_flip" not in probe.run(model) and "people_lookup_flip" not in probe.baselines


def test_the_probe_leaves_out_a_lookup_whose_contexts_do_not_fit_the_model(run_dir):
    from minigen.checkpoint import load_run
    from minigen.probe import RetrievalProbe

    _, tok, cfg = load_run(run_dir)
    longest = {key: max(len(c) + len(tok.encode(t.prompt + o)) for text, items in planned.contexts
                        for c in [[tok.bos_id] + tok.encode(text)] for t in items for o in t.options)
               for key, planned in RetrievalProbe(cfg, tok).lookups.items()}
    assert longest["retrieval"] < longest["people_lookup"]  # people lines are longer than comparisons
    cfg.model.seq_len = longest["retrieval"]
    probe = RetrievalProbe(cfg, tok)
    assert list(probe.lookups) == ["retrieval"] and probe.fits and "people_lookup_flip" not in probe.baselines
    cfg.model.seq_len = longest["retrieval"] - 1
    assert not RetrievalProbe(cfg, tok).fits


def test_line_parts_score_each_word_of_the_written_line(monkeypatch):
    """The asked line with its object swapped for an unseen word: comparative and adjective right,
    the object (and so the line) wrong; the line itself: every part right."""
    import minigen.eval.retrieval as retrieval

    for swap in (False, True):
        def fake(model, prompts, n, swap=swap):
            text = bytes(prompts[0][1:]).decode()
            first = text.split("\n")[-1]
            line = next(line for line in text.split("\n")[:-1] if line.startswith(first + " "))
            if swap:
                line = line.rsplit(" ", 1)[0] + " qqqq."
            return [list(line[len(first):].encode())]

        monkeypatch.setattr(retrieval, "generate", fake)
        parts = retrieval.line_parts(None, Tok(), DEV, n=8, seed=3)
        assert parts["comparative"] == parts["adjective"] == 1.0
        assert parts["object_piece"] == parts["object"] == parts["line"] == (0.0 if swap else 1.0)
