"""`minigen export hf`: a run directory as a Hugging Face `transformers` Llama checkpoint.

minigen's network is the Llama architecture, so the export is a renaming and a split of fused matrices,
with no change of any number:
- `blocks.i.attn.qkv` holds the rows of q, then k, then v (heads consecutive): `q_proj`, `k_proj`,
  `v_proj`. RoPE rotates feature i with feature i + head_dim/2 (`minigen.model.rotate`), which is
  Llama's `rotate_half` convention, with the same frequencies (theta^(-2i/head_dim)), so q and k need
  no permutation (checkpoints from Meta's interleaved convention do; this one does not);
- `blocks.i.mlp.gate_up` holds the gate rows, then the up rows: `gate_proj`, `up_proj`; `down`:
  `down_proj`; `intermediate_size` is minigen's SwiGLU hidden width (mlp_ratio * d_model rounded up
  to a multiple of 32);
- `norm1` / `norm2` / `norm` are `input_layernorm` / `post_attention_layernorm` / `model.norm`, with
  the same eps (`rms_norm_eps`), computed the same way (x * rsqrt(mean(x^2) + eps) * weight);
- attention is scaled by 1/sqrt(head_dim) in both; GQA shares key/value head j across query heads
  j*g .. j*g + g - 1 in both (`repeat_interleave` / `repeat_kv`); no biases anywhere
  (`attention_bias`, `mlp_bias` false); the embedding is tied to the output head
  (`tie_word_embeddings`, stored once) unless the run untied them.
The tokenizer is the run's own `tokenizer.json` with a post-processor that puts <bos> first (as
minigen scores and samples every sequence), so `tokenizer(text)` gives [BOS] + minigen's encoding and
`tokenizer(text, add_special_tokens=False)` minigen's encoding itself.

The export needs neither `transformers` nor a network: it writes JSON and safetensors files that
`transformers` loads offline (tested with 5.24, which reads `rope_parameters`; `rope_theta` is there
too, for 4.x readers).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from minigen.checkpoint import CONFIG, TOKENIZER, WEIGHTS, load_run
from minigen.errors import UserError
from minigen.files import atomic_write, atomic_write_text, output_dir

HF_WEIGHTS = "model.safetensors"


def hf_config(model_cfg, tokenizer) -> dict:
    """config.json of a `LlamaForCausalLM` with minigen's shape."""
    head_dim = model_cfg.d_model // model_cfg.n_head
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": model_cfg.vocab_size,
        "hidden_size": model_cfg.d_model,
        "intermediate_size": model_cfg.mlp_hidden,
        "num_hidden_layers": model_cfg.n_layer,
        "num_attention_heads": model_cfg.n_head,
        "num_key_value_heads": model_cfg.n_kv_head or model_cfg.n_head,
        "head_dim": head_dim,
        "hidden_act": "silu",
        "max_position_embeddings": model_cfg.seq_len,
        "rms_norm_eps": model_cfg.norm_eps,
        "rope_theta": model_cfg.rope_theta,
        "rope_parameters": {"rope_type": "default", "rope_theta": model_cfg.rope_theta},
        "attention_bias": False,
        "attention_dropout": 0.0,
        "mlp_bias": False,
        "pretraining_tp": 1,
        "tie_word_embeddings": model_cfg.tie_embeddings,
        "initializer_range": model_cfg.init_std,
        "use_cache": True,
        "bos_token_id": tokenizer.bos_id,
        "eos_token_id": tokenizer.eos_id,
        "pad_token_id": tokenizer.pad_id,
        "dtype": "float32",
    }


def hf_state_dict(model) -> dict[str, torch.Tensor]:
    """minigen Transformer weights under Llama's names (views; the tied head is left out, as
    `transformers` ties it on loading)."""
    cfg = model.cfg
    n_head, n_kv = cfg.n_head, cfg.n_kv_head or cfg.n_head
    head_dim = cfg.d_model // cfg.n_head
    hidden = cfg.mlp_hidden
    out = {"model.embed_tokens.weight": model.embed.weight, "model.norm.weight": model.norm.weight}
    if not cfg.tie_embeddings:
        out["lm_head.weight"] = model.head.weight
    for i, block in enumerate(model.blocks):
        p = f"model.layers.{i}."
        q, k, v = block.attn.qkv.weight.split([n_head * head_dim, n_kv * head_dim, n_kv * head_dim])
        gate, up = block.mlp.gate_up.weight.split([hidden, hidden])
        out.update({
            p + "self_attn.q_proj.weight": q, p + "self_attn.k_proj.weight": k,
            p + "self_attn.v_proj.weight": v, p + "self_attn.o_proj.weight": block.attn.proj.weight,
            p + "mlp.gate_proj.weight": gate, p + "mlp.up_proj.weight": up,
            p + "mlp.down_proj.weight": block.mlp.down.weight,
            p + "input_layernorm.weight": block.norm1.weight,
            p + "post_attention_layernorm.weight": block.norm2.weight,
        })
    return {name: t.detach() for name, t in out.items()}


def hf_tokenizer_json(run_tokenizer: Path, tokenizer) -> str:
    """The run's tokenizer.json with a post-processor that prepends <bos> (add_special_tokens=True)."""
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import processors

    from minigen.data.tokenizer import BOS

    hf = HFTokenizer.from_file(str(run_tokenizer))
    hf.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B:1", special_tokens=[(BOS, tokenizer.bos_id)])
    return hf.to_str()


def tokenizer_config(tokenizer, seq_len: int) -> dict:
    from minigen.data.tokenizer import BOS, EOS, PAD

    return {
        # The generic fast tokenizer reads tokenizer.json as it is; a Llama tokenizer class would
        # rebuild its own pre-tokenizer and lose minigen's syllable splits.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": BOS, "eos_token": EOS, "pad_token": PAD,
        "model_max_length": seq_len,
        # minigen decodes exactly (ByteLevel round trip); "clean up" would remove the space before "."
        "clean_up_tokenization_spaces": False,
        "added_tokens_decoder": {
            str(i): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                     "single_word": False, "special": True}
            for t, i in ((PAD, tokenizer.pad_id), (BOS, tokenizer.bos_id), (EOS, tokenizer.eos_id))},
    }


def find_run_dir(path: Path) -> tuple[Path, Path]:
    """(run directory, weights file) for a run directory, or for finetuned weights that `compare`
    wrote inside one (CKPT/compare/SPLIT/DATASET/COND/seedS/model.safetensors, `ft.save`): the run
    directory is then the nearest parent with a config.json."""
    path = Path(path)
    if path.is_file():
        if path.suffix != ".safetensors":
            raise UserError(f"{path} is not a .safetensors weights file; give a run directory or the "
                            f"model.safetensors that `compare` wrote")
        weights, start = path, path.parent
    elif path.is_dir():
        weights, start = path / WEIGHTS, path
    else:
        raise UserError(f"{path} does not exist; give a run directory made by `minigen pretrain` (or a "
                        f"finetuned-weights directory that `minigen compare` wrote inside one)")
    run_dir = next((d for d in (start, *start.parents) if (d / CONFIG).is_file()), None)
    if run_dir is None:
        raise UserError(f"no {CONFIG} in {start} or above it; give a run directory made by "
                        f"`minigen pretrain` (or the finetuned weights `minigen compare` wrote inside one)")
    if not weights.is_file():
        raise UserError(f"{weights} not found (the run has no checkpoint yet); run "
                        f"`minigen pretrain --out {run_dir}` first")
    return run_dir, weights


def load_weights(path):
    """(model, tokenizer, cfg, run dir, weights file): the run's model with the weights at `path`."""
    from safetensors.torch import load_model

    run_dir, weights = find_run_dir(path)
    model, tokenizer, cfg = load_run(run_dir)  # checks the config, tokenizer and the run's own weights
    if weights != run_dir / WEIGHTS:
        try:
            load_model(model, str(weights), device="cpu")
        except Exception as e:  # another shape or a corrupt file: one line
            raise UserError(f"{weights} does not fit the model of {run_dir} ({type(e).__name__}); give "
                            f"finetuned weights that `compare` wrote inside this run directory") from None
    return model.eval(), tokenizer, cfg, run_dir, weights


def export_hf(path, out) -> dict:
    """Write OUT: config.json, generation_config.json, model.safetensors, tokenizer.json,
    tokenizer_config.json, special_tokens_map.json. Returns a summary (files, seconds)."""
    from safetensors.torch import save_file

    from minigen.data.tokenizer import BOS, EOS, PAD

    start = time.perf_counter()
    run_dir, _ = find_run_dir(path)
    if Path(out).resolve() == run_dir.resolve():
        raise UserError(f"--out {out} is the run directory itself; choose another directory")
    model, tokenizer, cfg, run_dir, weights = load_weights(path)
    if cfg.model.canon:
        raise UserError(f"{run_dir} has canon layers (model.canon={cfg.model.canon}), which a Llama "
                        "checkpoint cannot hold; export a run without them")
    out = output_dir(Path(out))
    config = hf_config(cfg.model, tokenizer)
    tensors = {name: t.to("cpu", torch.float32).contiguous() for name, t in hf_state_dict(model).items()}
    meta = {"format": "pt", "minigen_run": str(run_dir), "minigen_weights": str(weights)}
    atomic_write(out / HF_WEIGHTS, lambda tmp: save_file(tensors, str(tmp), metadata=meta))
    atomic_write_text(out / "config.json", json.dumps(config, indent=2) + "\n")
    generation = {"bos_token_id": tokenizer.bos_id, "eos_token_id": tokenizer.eos_id,
                  "pad_token_id": tokenizer.pad_id, "do_sample": False}
    atomic_write_text(out / "generation_config.json", json.dumps(generation, indent=2) + "\n")
    atomic_write_text(out / "tokenizer.json", hf_tokenizer_json(run_dir / TOKENIZER, tokenizer))
    atomic_write_text(out / "tokenizer_config.json",
                      json.dumps(tokenizer_config(tokenizer, cfg.model.seq_len), indent=2) + "\n")
    atomic_write_text(out / "special_tokens_map.json",
                      json.dumps({"bos_token": BOS, "eos_token": EOS, "pad_token": PAD}, indent=2) + "\n")
    return {"out": str(out), "run_dir": str(run_dir), "weights": str(weights),
            "params": sum(t.numel() for t in tensors.values()), "seconds": time.perf_counter() - start}
