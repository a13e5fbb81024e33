"""Multiple-choice scoring: the joint-tokenization boundary, and batched + cached scoring equal to
plain, one-sequence-at-a-time forward passes.

Scores are float32 sums over an option's tokens (random models give ~-4.5 per token, sums near -90,
where one float32 ulp is ~8e-6), so "equal within 1e-5" is checked per scored token.
"""

import pytest
import torch
from eval_helpers import GreedyTokenizer, Item, comparison_items, tiny_model

from minigen.eval.scoring import (
    ItemScore,
    check_separable,
    score_items,
    score_items_in_contexts,
    split_at_boundary,
)


def reference_logprob(model, prefix: list[int], continuation: list[int]) -> float:
    """Sum of log-probabilities of `continuation` after `prefix`: one unpadded, uncached forward pass."""
    seq = torch.tensor([prefix + continuation])
    with torch.no_grad():
        logp = model(seq)[0][0].float().log_softmax(-1)
    positions = torch.arange(len(prefix) - 1, len(prefix) - 1 + len(continuation))
    return logp[positions, torch.tensor(continuation)].sum().item()


def test_boundary_on_a_clean_split():
    tok = GreedyTokenizer()
    left = tok.encode("femp are")
    p, c = split_at_boundary(tok, "femp are", " less dangerous than glon.")
    assert p == left
    assert tok.decode(c) == " less dangerous than glon."
    assert p + c == tok.encode("femp are less dangerous than glon.")


def test_boundary_token_straddling_goes_to_the_option():
    tok = GreedyTokenizer()
    prompt, option = "femp are", " more dangerous than glon."
    joint = tok.encode(prompt + option)
    assert " are m" in [tok.pieces[i] for i in joint]  # the straddling token exists
    p, c = split_at_boundary(tok, prompt, option)
    assert p + c == joint  # the joint tokenization, not the separate ones
    assert tok.decode(p) == "femp"  # only tokens wholly inside the prompt
    assert tok.decode(c) == " are more dangerous than glon."
    assert tok.encode(prompt) != joint[: len(tok.encode(prompt))]


def test_boundary_when_prompt_tokens_differ_only_in_the_last_piece():
    tok = GreedyTokenizer(pieces=("ll ", "a"))
    p, c = split_at_boundary(tok, "all", " glon")  # "ll " straddles: "a" + "ll " + "glon"
    assert tok.decode(p) == "a" and tok.decode(c) == "ll glon"


@pytest.mark.parametrize("batch_size", [1, 3, 64])
def test_batched_scoring_equals_one_at_a_time(batch_size):
    tok = GreedyTokenizer()
    model = tiny_model(tok.vocab_size)
    items = comparison_items(5)
    items.append(Item("x", "reversal", "femp are", [" m", " more dangerous than glon and yomp."], 0))
    scores = score_items(model, tok, items, batch_size=batch_size)
    for item, s in zip(items, scores, strict=True):
        for k, option in enumerate(item.options):
            p, c = split_at_boundary(tok, item.prompt, option)
            ref = reference_logprob(model, [tok.bos_id] + p, c)
            assert s.logprob[k] == pytest.approx(ref, abs=1e-5 * len(c))
            assert s.n_tokens[k] == len(c) and s.n_chars[k] == len(option)


@pytest.mark.parametrize("batch_size", [1, 4, 64])
def test_cached_context_scoring_equals_full_sequence(batch_size):
    """Several contexts of different lengths, scored side by side, each encoded once: every option's
    score equals the full, uncached sequence's."""
    tok = GreedyTokenizer()
    model = tiny_model(tok.vocab_size)
    texts = ["femp are more dangerous than glon.\nAll yomp are troff.\n", "All yomp are troff.\n",
             "glon are less dangerous than femp.\nfemp are more dangerous than glon.\nAll troff are yomp.\n"]
    contexts = [[tok.bos_id] + tok.encode(t) for t in texts]
    groups = [comparison_items(4), comparison_items(2), comparison_items(3)[1:]]
    for text, context, items in zip(texts, contexts, groups, strict=True):
        check_separable(tok, text, context, items[0])
    pairs = list(zip(contexts, groups, strict=True))
    scored = score_items_in_contexts(model, tok, pairs, batch_size=batch_size)
    for context, items, scores in zip(contexts, groups, scored, strict=True):
        for item, s in zip(items, scores, strict=True):
            for k, option in enumerate(item.options):
                p, c = split_at_boundary(tok, item.prompt, option)
                ref = reference_logprob(model, context + p, c)
                assert s.logprob[k] == pytest.approx(ref, abs=1e-5 * len(c))


def test_cached_scoring_handles_straddling_prompt_tokens():
    tok = GreedyTokenizer()
    model = tiny_model(tok.vocab_size)
    context = [tok.bos_id] + tok.encode("glon are less dangerous than femp.\n")
    item = Item("s", "reversal", "femp are", [" more dangerous than glon.", " less dangerous than glon."], 0)
    ((s,),) = score_items_in_contexts(model, tok, [(context, [item])])
    (plain,) = score_items(model, tok, [item])
    for k, option in enumerate(item.options):
        p, c = split_at_boundary(tok, item.prompt, option)
        tol = 1e-5 * len(c)
        assert s.logprob[k] == pytest.approx(reference_logprob(model, context + p, c), abs=tol)
        assert plain.logprob[k] == pytest.approx(reference_logprob(model, [tok.bos_id] + p, c), abs=tol)


def test_length_normalized_scores_and_prediction():
    s = ItemScore("i", "t", answer=1, logprob=[-6.0, -8.0], n_tokens=[2, 4], n_chars=[3, 16])
    assert s.scores("per_token") == [-3.0, -2.0]
    assert s.scores("per_char") == [-2.0, -0.5]
    assert s.predicted() == 0 and not s.correct()
    assert s.correct("per_token") and s.correct("per_char")
    with pytest.raises(ValueError):
        s.scores("per_word")


def test_an_option_equivalent_to_the_answer_counts_as_correct():
    """Syllogism items accept "No b are a" for "No a are b": correct() follows the item's accepted set."""
    s = ItemScore("i", "t", answer=2, logprob=[-9.0, -1.0, -5.0], n_tokens=[1, 1, 1], n_chars=[1, 1, 1])
    assert not s.correct()
    s.accepted = [2, 1]
    assert s.correct()


def _greedy_reference(model, tok, ids: list[int], item) -> str:
    """The greedy continuation by full forward passes, no cache: the text up to the first line break,
    at most the answer's tokens + generation.MARGIN."""
    from minigen.eval.generation import max_new_tokens

    ids, out = list(ids), []
    for _ in range(max_new_tokens(tok, item)):
        with torch.no_grad():
            nxt = int(model(torch.tensor([ids]))[0][0, -1].argmax())
        out.append(nxt)
        ids.append(nxt)
        if tok.decode([nxt]) == "\n" or nxt == tok.eos_id:
            break
    return tok.decode([t for t in out if t != tok.eos_id]).split("\n")[0]


def test_generation_items_are_answered_by_the_greedy_continuation_after_context_and_prompt(monkeypatch):
    """Exact-match items (meta["generate"]) get the greedy continuation as `generated` and the checker's
    verdict as `exact`, which is what correct() counts, with no context and after a context; the
    multiple-choice items scored beside them are untouched."""
    from minigen.eval import generation

    tok = GreedyTokenizer()
    model = tiny_model(tok.vocab_size)
    with torch.no_grad():  # large random matrices: continuations that differ with the context and prompt
        for p in model.parameters():
            if p.dim() > 1:
                p.normal_(0, 0.5)
    seen, texts = [], []

    def check(item, text):
        seen.append(text)
        return text[:1] == item.meta["want"]

    monkeypatch.setitem(generation.CHECKS, "first-char", check)
    context = [tok.bos_id] + tok.encode("glon are less dangerous than femp.\n")
    for prefix in ([tok.bos_id], context):
        gen = [Item(f"g{k}", "train-gen", p, [" more dangerous than glon."], 0, {"generate": "first-char"})
               for k, p in enumerate(["femp are", "glon are"])]
        refs = [_greedy_reference(model, tok, prefix + tok.encode(item.prompt), item) for item in gen]
        gen[0].meta["want"], gen[1].meta["want"] = refs[0][:1], "#"  # the first right, the second wrong
        items = [comparison_items(1)[0], *gen]
        seen.clear()
        if prefix == context:
            ((mc, *scores),) = score_items_in_contexts(model, tok, [(context, items)])
        else:
            mc, *scores = score_items(model, tok, items)
        assert [s.generated for s in scores] == refs == seen
        assert [s.exact for s in scores] == [True, False] == [s.correct() for s in scores]
        assert [s.to_dict()["generated"] for s in scores] == refs
        assert mc.generated is None and mc.exact is None and "generated" not in mc.to_dict()
        texts.append(refs)
    assert texts[0][0] != texts[1][0] and texts[0][0] != texts[0][1]  # the test sees the context and prompt
