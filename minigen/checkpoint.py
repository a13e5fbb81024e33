"""The run directory: config.json, tokenizer.json, model.safetensors, trainer_state.pt, metrics.jsonl
(and probe_baselines.json: what each probe in metrics.jsonl is read against).

Every file is written atomically (temporary file + os.replace). trainer_state.pt alone is the resume
point (weights, optimizer, step, RNG states, data position), so a kill between two file replacements
can never pair weights with the wrong optimizer state; model.safetensors is the published weights.
"""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
from importlib import metadata
from pathlib import Path

import numpy as np
import torch

from minigen.config import RunConfig
from minigen.errors import UserError
from minigen.files import atomic_write, atomic_write_text

CONFIG, TOKENIZER, WEIGHTS, STATE, METRICS = (
    "config.json", "tokenizer.json", "model.safetensors", "trainer_state.pt", "metrics.jsonl")
BASELINES = "probe_baselines.json"  # chance and the heuristics on each probe's items


def provenance() -> dict:
    """Git commit and package versions, so a run directory says how to reproduce it."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                                cwd=Path(__file__).parent).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True, timeout=5,
                               cwd=Path(__file__).parent).stdout.strip() != ""
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "", False
    versions = {}
    for pkg in ("minigen", "torch", "numpy", "tokenizers", "safetensors", "triton", "wandb"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return {"git_commit": commit, "git_dirty": dirty, "versions": versions}


def write_config(run_dir: Path, cfg: RunConfig, extra: dict) -> None:
    atomic_write_text(run_dir / CONFIG, json.dumps({**cfg.to_dict(), "meta": extra}, indent=2) + "\n")


def read_config(run_dir: Path) -> RunConfig:
    path = Path(run_dir) / CONFIG
    try:
        return RunConfig.from_dict(json.loads(path.read_text()))
    except FileNotFoundError:
        raise UserError(f"{path} not found; run `minigen pretrain --out {run_dir}` first") from None
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise UserError(f"{path} is corrupt ({type(e).__name__}); rerun `minigen pretrain --out DIR`") \
            from None


def read_meta(run_dir: Path) -> dict:
    """The provenance a run's config.json keeps beside its config (commit, preset, recipe, ...)."""
    return json.loads((Path(run_dir) / CONFIG).read_text()).get("meta", {})


def extension_difference(old: RunConfig, new: RunConfig) -> str | None:
    """Why `new` does not extend the run `old` (None when it does): `new` runs every stage of `old`
    unchanged (a run without stages is one stage), then more, and differs in nothing else."""
    old_stages = old.stages or [{"steps": old.train.steps, "set": {}}]
    if len(new.stages) <= len(old_stages):
        return f"it has {len(new.stages)} stage(s) and the run {len(old_stages)}; it needs more"
    for i, (a, b) in enumerate(zip(old_stages, new.stages[:len(old_stages)], strict=True)):
        if int(a["steps"]) != int(b["steps"]) or dict(a.get("set", {})) != dict(b.get("set", {})):
            return f"stage {i + 1} differs: {a!r} -> {b!r}"
    same_rest = RunConfig.from_dict({**new.to_dict(), "stages": old.stages})
    same_rest.train.steps = old.train.steps
    return config_difference(old, same_rest)


def config_difference(old: RunConfig, new: RunConfig) -> str | None:
    """The first 'section.key: old -> new' difference, or None when the configs are the same."""
    a, b = old.to_dict(), new.to_dict()
    if a.get("stages") != b.get("stages"):
        return f"stages: {a.get('stages')!r} -> {b.get('stages')!r}"
    for section in ("model", "train", "data"):
        for key in sorted(set(a[section]) | set(b[section])):
            if a[section].get(key) != b[section].get(key):
                return f"{section}.{key}: {a[section].get(key)!r} -> {b[section].get(key)!r}"
    return None


def rng_states() -> dict:
    states = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict) -> None:
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def aliases(model: torch.nn.Module) -> dict[str, str]:
    """{name: name it shares its tensor with} for tied parameters, e.g. {"head.weight": "embed.weight"}."""
    first: dict[int, str] = {}
    out = {}
    for name, p in model.named_parameters(remove_duplicate=False):
        if id(p) in first:
            out[name] = first[id(p)]
        else:
            first[id(p)] = name
    return out


def save_checkpoint(run_dir: Path, model: torch.nn.Module, optimizer, step: int, data_row: int) -> None:
    """Write trainer_state.pt and model.safetensors. With a sharded (FSDP) model every process must call
    it (the weights are gathered to rank 0, which writes); otherwise only the writing process calls it."""
    from safetensors.torch import save_file

    from minigen.parallel import full_state

    state = full_state(model, optimizer)
    if state is None:
        return
    model_state, optim_state = state
    trainer = {"model": model_state, "optimizer": optim_state, "step": step, "data_row": data_row,
               "rng": rng_states()}
    atomic_write(run_dir / STATE, lambda tmp: torch.save(trainer, tmp))
    # Tied tensors stored once, the alias named in the metadata (safetensors' save_model convention).
    tied = aliases(model)
    weights = {k: v.detach().contiguous() for k, v in model_state.items() if k not in tied}
    meta = {"step": str(step), **tied}
    atomic_write(run_dir / WEIGHTS, lambda tmp: save_file(weights, str(tmp), metadata=meta))


def load_trainer_state(run_dir: Path) -> dict | None:
    path = Path(run_dir) / STATE
    if not path.exists():
        return None
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # a truncated or foreign file: say so in one line
        raise UserError(f"{path} is corrupt ({type(e).__name__}); delete the run dir and pretrain again") \
            from None


def truncate_metrics(run_dir: Path, step: int) -> None:
    """Drop metrics logged after the checkpoint we resume from (they will be logged again)."""
    path = Path(run_dir) / METRICS
    if not path.exists():
        return
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    keep = [line for line in lines if json.loads(line)["step"] <= step]
    atomic_write_text(path, "".join(line + "\n" for line in keep))


def append_metrics(run_dir: Path, record: dict) -> None:
    with open(Path(run_dir) / METRICS, "a") as f:
        f.write(json.dumps(record) + "\n")


def load_run(run_dir, device: str | torch.device = "cpu"):
    """(model, tokenizer, cfg) from a run directory; UserError if something is missing or corrupt."""
    from safetensors.torch import load_model

    from minigen.data.tokenizer import Tokenizer
    from minigen.model import Transformer

    run_dir = Path(run_dir)
    hint = f"run `minigen pretrain --out {run_dir}` first"
    if not run_dir.is_dir():
        raise UserError(f"run directory {run_dir} does not exist; {hint}")
    cfg = read_config(run_dir)
    for name in (TOKENIZER, WEIGHTS):
        if not (run_dir / name).exists():
            raise UserError(f"{run_dir / name} not found (the run has no checkpoint yet); {hint}")
    try:
        tokenizer = Tokenizer.load(run_dir / TOKENIZER)
    except Exception as e:
        raise UserError(f"{run_dir / TOKENIZER} is corrupt ({type(e).__name__}); {hint}") from None
    if tokenizer.vocab_size != cfg.model.vocab_size:
        raise UserError(f"{run_dir / TOKENIZER} has {tokenizer.vocab_size} tokens but the model was "
                        f"trained with {cfg.model.vocab_size}; restore the run's own tokenizer.json")
    expected = json.loads((run_dir / CONFIG).read_text()).get("meta", {}).get("tokenizer_sha256")
    if expected and file_sha256(run_dir / TOKENIZER) != expected:
        raise UserError(f"{run_dir / TOKENIZER} is not the tokenizer the model was trained with "
                        f"(sha256 differs); restore the run's own tokenizer.json")
    model = Transformer(cfg.model)
    try:
        load_model(model, str(run_dir / WEIGHTS), device="cpu")
    except Exception as e:
        raise UserError(f"{run_dir / WEIGHTS} is corrupt ({type(e).__name__}); {hint}") from None
    return model.to(device).eval(), tokenizer, cfg


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
