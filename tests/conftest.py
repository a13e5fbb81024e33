import os

import pytest

# Tests never talk to W&B and run Triton kernels in the interpreter on the CPU.
os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("TRITON_INTERPRET", "1")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A run directory as `minigen pretrain` writes it, with a small random model."""
    import torch
    from safetensors.torch import save_model

    from minigen import checkpoint
    from minigen.config import apply_overrides, get_preset
    from minigen.data.tokenizer import train_tokenizer
    from minigen.model import Transformer

    # tiny-rw's corpus covers reversal's vocabulary only: the coverage tests need a dataset it never shows
    cfg = apply_overrides(get_preset("tiny-rw"), ["model.n_layer=1", "model.d_model=32", "model.n_head=2"])
    tokenizer = train_tokenizer(cfg.data, num_documents=300)
    cfg.model.vocab_size = tokenizer.vocab_size
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("run")
    checkpoint.write_config(path, cfg, {"preset": "test"})
    tokenizer.save(path / checkpoint.TOKENIZER)
    save_model(Transformer(cfg.model), str(path / checkpoint.WEIGHTS))
    return path
