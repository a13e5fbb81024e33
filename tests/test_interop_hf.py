"""`minigen export hf`: the exported directory loads in `transformers` offline and computes what minigen
computes: logits within 1e-5 (fp32) on unpacked and packed inputs, with and without GQA, for a
random-initialized run and one trained a few steps; the tokenizer encodes every dataset's prompts and
options as minigen does; greedy `generate` matches minigen's for 32 tokens.

Packed inputs: minigen runs a row of several documents with segment ids (RoPE positions counted
along the row, as in pretraining); `transformers` runs the same row with position_ids = 0..T-1 and a
4-D block-diagonal causal mask, and also each document on its own at the positions it had in the row.
"""

import json
import os
from pathlib import Path

import pytest
import torch

transformers = pytest.importorskip("transformers")

from minigen import checkpoint  # noqa: E402
from minigen.cli import main  # noqa: E402
from minigen.config import PRESETS, ModelConfig, apply_overrides, get_preset  # noqa: E402
from minigen.data.tokenizer import train_tokenizer  # noqa: E402
from minigen.interop.hf import export_hf, hf_config, hf_state_dict  # noqa: E402
from minigen.model import Transformer  # noqa: E402

TOL = 1e-5


@pytest.fixture(scope="module")
def tokenizer():
    torch.set_num_threads(1)
    return train_tokenizer(num_documents=300)


@pytest.fixture(scope="module")
def datasets():
    from minigen.data.datasets import DATASETS, load_dataset

    return {name: load_dataset(name) for name in DATASETS}


@pytest.fixture(scope="module")
def texts(datasets):
    """Every dataset's first prompts joined to their options (what compare scores)."""
    return [item.prompt + option for ds in datasets.values() for item in ds.test[:4]
            for option in item.options[:2]]


def make_run(path, tokenizer, overrides=(), train_steps=0):
    """A run directory as `minigen pretrain` writes it: a tiny random model, optionally trained a few
    steps (finetuning on dataset documents, so the weights are no longer near their init)."""
    from safetensors.torch import save_model

    from minigen.data.datasets import load_dataset
    from minigen.train import finetune

    cfg = apply_overrides(get_preset("tiny"), ["model.n_layer=2", "model.d_model=32", "model.n_head=2",
                                               "model.seq_len=64", *overrides])
    cfg.model.vocab_size = tokenizer.vocab_size
    torch.manual_seed(0)
    model = Transformer(cfg.model)
    if train_steps:
        docs = load_dataset("reversal").train[:64]
        seqs = [[tokenizer.bos_id, *tokenizer.encode(d.text), tokenizer.eos_id] for d in docs]
        finetune(model, seqs, lr=1e-2, steps=train_steps, batch_size=8, seed=0)
    path.mkdir(parents=True, exist_ok=True)
    checkpoint.write_config(path, cfg, {"preset": "test"})
    tokenizer.save(path / checkpoint.TOKENIZER)
    save_model(model.eval(), str(path / checkpoint.WEIGHTS))
    return path


RUNS = {
    "random": ((), 0),
    "trained": ((), 40),
    "gqa-random": (("model.n_head=4", "model.n_kv_head=2"), 0),
    "gqa-trained-untied": (("model.n_head=4", "model.n_kv_head=2", "model.tie_embeddings=false"), 40),
}


# MINIGEN_HF_CHECK_RUN=runs/tiny adds a real run directory (its own tokenizer) to the ones built here.
CHECK_RUN = os.environ.get("MINIGEN_HF_CHECK_RUN")


@pytest.fixture(scope="module", params=list(RUNS) + ([CHECK_RUN] if CHECK_RUN else []))
def exported(request, tokenizer, tmp_path_factory):
    """(minigen model, HF model, HF tokenizer, minigen tokenizer) for each kind of run."""
    root = tmp_path_factory.mktemp("export")
    if request.param in RUNS:
        run = make_run(root / "run", tokenizer, *RUNS[request.param])
    else:
        run = Path(request.param)
    export_hf(run, root / "hf")
    hf = transformers.AutoModelForCausalLM.from_pretrained(root / "hf").eval()
    hf_tok = transformers.AutoTokenizer.from_pretrained(root / "hf")
    model, run_tokenizer, _ = checkpoint.load_run(run)
    return model, hf, hf_tok, run_tokenizer


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


def batch(tokenizer, texts):
    seqs = [[tokenizer.bos_id, *tokenizer.encode(t)] for t in texts]
    return seqs


@torch.no_grad()
def test_logits_unpacked(exported, texts):
    model, hf, _, tokenizer = exported
    for seq in batch(tokenizer, texts[:12]):
        x = torch.tensor([seq])
        assert (hf(x).logits - model(x)[0]).abs().max().item() < TOL


@torch.no_grad()
def test_logits_packed(exported, texts):
    model, hf, _, tokenizer = exported
    docs = batch(tokenizer, texts[:6])
    row = [t for d in docs for t in d]
    seg = torch.tensor([[k for k, d in enumerate(docs) for _ in d]])
    x = torch.tensor([row])
    ours = model(x, segment_ids=seg)[0]
    n = len(row)
    allowed = (seg[0][:, None] == seg[0][None, :]) & torch.ones(n, n, dtype=torch.bool).tril()
    mask = torch.zeros(1, 1, n, n).masked_fill(~allowed, torch.finfo(torch.float32).min)
    theirs = hf(x, attention_mask=mask, position_ids=torch.arange(n)[None]).logits
    assert (theirs - ours).abs().max().item() < TOL
    start = 0
    for d in docs:  # each document alone, at its positions in the row
        pos = torch.arange(start, start + len(d))[None]
        alone = hf(torch.tensor([d]), position_ids=pos).logits
        assert (alone - ours[:, start:start + len(d)]).abs().max().item() < TOL
        start += len(d)


def test_tokenizer_encodes_like_minigen(exported, datasets):
    _, _, hf_tok, tokenizer = exported
    assert (hf_tok.bos_token_id, hf_tok.eos_token_id, hf_tok.pad_token_id) == (
        tokenizer.bos_id, tokenizer.eos_id, tokenizer.pad_id)
    for name, ds in datasets.items():
        strings = sorted({s for item in ds.test for s in (item.prompt, *item.options,
                                                            *(item.prompt + o for o in item.options))})
        ours = [tokenizer.encode(s) for s in strings]
        assert hf_tok(strings, add_special_tokens=False)["input_ids"] == ours, name
        assert hf_tok(strings[:50])["input_ids"] == [[tokenizer.bos_id, *ids] for ids in ours[:50]]
        assert hf_tok.batch_decode(ours[:50]) == strings[:50]


@torch.no_grad()
def test_greedy_generate_matches(exported, datasets):
    """Greedy decoding of up to 32 tokens from every dataset's prompts, stopping after <eos> (the
    exported generation config's default), then after <pad> (never predicted by a trained model, so
    the 32 tokens run on past <eos>); minigen's stop_id is the same token each time."""
    from minigen.inference import generate

    model, hf, hf_tok, tokenizer = exported
    prompts = [ds.test[0].prompt for ds in datasets.values()]
    lengths = []
    for stop in (tokenizer.eos_id, tokenizer.pad_id):
        ours = generate(model, [[tokenizer.bos_id, *tokenizer.encode(p)] for p in prompts], 32, stop_id=stop)
        for prompt, mine in zip(prompts, ours, strict=True):
            enc = hf_tok(prompt, return_tensors="pt")
            out = hf.generate(**enc, max_new_tokens=32, do_sample=False, eos_token_id=stop)
            assert out[0, enc.input_ids.shape[1]:].tolist() == mine
            lengths.append(len(mine))
    assert max(lengths) == 32


def test_every_preset_shape_maps_onto_llama():
    """Names and shapes of every preset's weights (GQA ones included) equal LlamaForCausalLM's, on the
    meta device (no memory)."""
    from minigen.data.tokenizer import PAD

    class Tok:
        bos_id, eos_id, pad_id = 1, 2, 0

    assert PAD
    for name in PRESETS:
        cfg = get_preset(name).model
        cfg.vocab_size = 1270
        with torch.device("meta"):
            ours = {k: tuple(v.shape) for k, v in hf_state_dict(Transformer(cfg)).items()}
            llama = transformers.LlamaForCausalLM(transformers.LlamaConfig.from_dict(hf_config(cfg, Tok)))
        theirs = {k: tuple(v.shape) for k, v in llama.state_dict().items()
                  if not (cfg.tie_embeddings and k == "lm_head.weight")}
        assert ours == theirs, name


def test_finetuned_weights_export(tokenizer, tmp_path):
    """Weights that compare wrote (ft.save: save_model of the finetuned copy) export from their own
    directory, with the run's config and tokenizer found above it."""
    from safetensors.torch import save_model

    run = make_run(tmp_path / "run", tokenizer)
    model, _, _ = checkpoint.load_run(run)
    with torch.no_grad():
        model.blocks[0].mlp.down.weight.add_(0.5)
    ft_dir = run / "compare" / "reversal" / "reversal" / "ft" / "seed0"
    ft_dir.mkdir(parents=True)
    save_model(model, str(ft_dir / "model.safetensors"), metadata={"seed": "0"})
    with pytest.raises(SystemExit) as e:
        main(["export", "hf", str(ft_dir), "--out", str(tmp_path / "hf")])
    assert e.value.code == 0
    hf = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / "hf").eval()
    x = torch.tensor([[tokenizer.bos_id, *tokenizer.encode("femp are more dangerous than glon.")]])
    with torch.no_grad():
        assert (hf(x).logits - model(x)[0]).abs().max().item() < TOL
    meta = json.loads((tmp_path / "hf" / "config.json").read_text())
    assert meta["model_type"] == "llama" and meta["tie_word_embeddings"] is True


def test_export_errors_are_one_line(tokenizer, tmp_path, capsys):
    """Canon layers (no Llama equivalent), no weights, a tokenizer of another size, a tokenizer that is
    not the one trained with (sha256 in config.json's meta, as pretrain writes it), weights of another
    shape: one line, exit code 2."""
    from safetensors.torch import save_model

    no_weights = make_run(tmp_path / "no-weights", tokenizer)
    (no_weights / checkpoint.WEIGHTS).unlink()
    other = train_tokenizer(num_documents=40)
    assert other.vocab_size != tokenizer.vocab_size
    resized = make_run(tmp_path / "resized", tokenizer)
    other.save(resized / checkpoint.TOKENIZER)
    swapped = make_run(tmp_path / "swapped", tokenizer)
    cfg = checkpoint.read_config(swapped)
    checkpoint.write_config(swapped, cfg, {"tokenizer_sha256": "0" * 64})
    foreign = make_run(tmp_path / "foreign", tokenizer) / "compare" / "x" / "reversal" / "ft" / "seed0"
    foreign.mkdir(parents=True)
    small = Transformer(ModelConfig(vocab_size=tokenizer.vocab_size, n_layer=1, d_model=16, n_head=2))
    save_model(small, str(foreign / "model.safetensors"))
    canon = make_run(tmp_path / "canon", tokenizer, ["model.canon=4"])
    cases = [(canon, "canon layers"), (tmp_path / "missing", "does not exist"), (no_weights, "not found"),
             (resized, "tokens but the model was trained with"), (swapped, "sha256 differs"),
             (foreign, "does not fit the model"), (foreign / "model.safetensors", "does not fit the model"),
             (tmp_path, "no config.json")]
    for path, message in cases:
        with pytest.raises(SystemExit) as e:
            main(["export", "hf", str(path), "--out", str(tmp_path / "out")])
        err = capsys.readouterr().err
        assert e.value.code == 2 and message in err and len(err.strip().splitlines()) == 1, (path, err)
    assert not (tmp_path / "out").exists()
