"""Configuration: typed dataclasses, the presets (shapes x recipes), and `--set KEY=VALUE` overrides.

A run is fully described by a `RunConfig` (model + train + data, and a recipe's stages). A preset is a
shape (model and training settings) with a recipe (a corpus mixture and optional stages), both small
dicts of overrides on the dataclass defaults; `apply_overrides` (through `minigen.overrides`, the one
override engine) turns strings like "train.lr=1e-3" or "data.roles.confusers=0.8" into typed values and
raises a one-line `UserError` for anything a user can get wrong.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from minigen.data.corpus import LEGACY, CorpusConfig, legacy_keys
from minigen.errors import UserError
from minigen.overrides import apply, keys, rebuilt, set_key
from minigen.recipes import RECIPES


@dataclass
class ModelConfig:
    vocab_size: int = 0  # 0: taken from the run's tokenizer
    n_layer: int = 4
    n_head: int = 4
    n_kv_head: int = 0  # 0: same as n_head (no GQA)
    d_model: int = 128
    seq_len: int = 256  # training context length
    mlp_ratio: float = 8 / 3  # SwiGLU hidden = mlp_ratio * d_model, rounded up to a multiple of 32
    tie_embeddings: bool = True
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5
    init_std: float = 0.02
    attn_backend: str = "auto"  # auto (triton on CUDA, sdpa on CPU) | triton | sdpa | eager
    canon: int = 0  # canon layers before attention: a causal depthwise conv over this many tokens (0: none)

    @property
    def mlp_hidden(self) -> int:
        """The SwiGLU hidden width: mlp_ratio * d_model, rounded up to a multiple of 32."""
        return 32 * math.ceil(self.mlp_ratio * self.d_model / 32)

    def __post_init__(self) -> None:
        if self.attn_backend not in ("auto", "triton", "sdpa", "eager"):
            raise UserError(
                f"model.attn_backend={self.attn_backend!r} is unknown; use auto, triton, sdpa or eager")
        if self.canon < 0 or self.canon == 1:
            raise UserError(
                f"model.canon={self.canon}: use 0 (no canon layers) or a kernel of 2 tokens or more")
        kv = self.n_kv_head or self.n_head
        if self.d_model % self.n_head or self.n_head % kv:
            raise UserError(
                f"model.d_model={self.d_model}, n_head={self.n_head}, n_kv_head={kv}: d_model must be "
                "divisible by n_head and n_head by n_kv_head"
            )


@dataclass
class TrainConfig:
    batch_size: int = 16  # global batch (rows of seq_len tokens) per optimizer step
    grad_accum: int = 1  # micro-batches per step (per process)
    lr: float = 3e-3
    min_lr: float = 3e-4
    warmup: int = 100
    steps: int = 2000
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    clip: float = 1.0
    # The learning-rate schedule after the linear warmup: cosine to min_lr at the end, or wsd
    # (warmup-stable-decay: lr held, then a linear decay to min_lr over the last decay_share of steps).
    schedule: str = "cosine"
    decay_share: float = 0.2
    # adamw: AdamW on every parameter. muon: Muon on the blocks' matrices (lr = lr * muon_lr_scale),
    # AdamW on the embeddings and norm gains (minigen/optim.py).
    optimizer: str = "adamw"
    muon_lr_scale: float = 1.0
    muon_momentum: float = 0.95
    # Comma-separated parameter-name prefixes (e.g. "blocks.1.attn") this run, or this stage, does not
    # train: a later curriculum stage can keep what an earlier one built (frozen weights get no update
    # and no weight decay)
    frozen: str = ""
    seed: int = 0
    dtype: str = "auto"  # auto (bf16 autocast on CUDA, fp32 on CPU) | float32 | bfloat16
    compile: bool = True  # torch.compile the model (CPU and GPU) ...
    compile_min_steps: int = 500  # ... when the run has at least this many steps left (compiling takes ~20 s)
    # Compiled runs bitwise reproducible: deterministic algorithms and inductor's deterministic mode
    # (without it, inductor's parallel kernels accumulate in a varying order: two runs differ).
    deterministic: bool = True
    num_threads: int = 0  # CPU threads for torch; 0: torch's default
    data_workers: int = 0  # processes that generate the corpus rows (per training process); 0: one thread
    parallel: str = "ddp"  # under torchrun: ddp (whole model per process) | fsdp (FSDP2: sharded state)
    log_every: int = 10
    eval_every: int = 250  # held-out loss + in-context probe; 0: only at the end
    ckpt_every: int = 500  # 0: only at the end
    probe_items: int = 60  # test items per probe dataset (the probe is compare's ICL on dev words)
    heldout_rows: int = 16  # rows of held-out corpus for the held-out loss

    def __post_init__(self) -> None:
        if self.dtype not in ("auto", "float32", "bfloat16"):
            raise UserError(f"train.dtype={self.dtype!r} is unknown; use auto, float32 or bfloat16")
        if self.schedule not in ("cosine", "wsd"):
            raise UserError(f"train.schedule={self.schedule!r} is unknown; use cosine or wsd")
        if not 0.0 <= self.decay_share <= 1.0:
            raise UserError(f"train.decay_share={self.decay_share} must be between 0 and 1")
        if self.optimizer not in ("adamw", "muon"):
            raise UserError(f"train.optimizer={self.optimizer!r} is unknown; use adamw or muon")
        if self.parallel not in ("ddp", "fsdp"):
            raise UserError(f"train.parallel={self.parallel!r} is unknown; use ddp or fsdp")
        if self.data_workers < 0:
            raise UserError(f"train.data_workers={self.data_workers} must be >= 0 (0: one thread)")
        if self.batch_size < 1 or self.grad_accum < 1 or self.batch_size % self.grad_accum:
            raise UserError(
                f"train.batch_size={self.batch_size} must be a positive multiple of "
                f"train.grad_accum={self.grad_accum}"
            )


SECTIONS = ("model", "train", "data")
RETIRED_TRAIN = ("probe_other_docs",)  # in older runs' config.json; the probe now plans as compare does


@dataclass
class RunConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    data: CorpusConfig = field(default_factory=CorpusConfig)
    # A curriculum: pretraining runs these stages in order, each {"steps": N, "set": {"data.X": value,
    # "train.Y": value}} on top of the sections above, with a fresh optimizer and its own warmup and
    # cosine schedule (`stage_configs`). Empty: one stage, the run itself. Set by recipes only.
    stages: list = field(default_factory=list)

    def to_dict(self) -> dict:
        d = {name: dataclasses.asdict(getattr(self, name)) for name in SECTIONS}
        if self.stages:  # absent otherwise, so runs without stages keep their config.json
            d["stages"] = [dict(s, set=dict(s.get("set", {}))) for s in self.stages]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> RunConfig:
        """From `to_dict`'s form (config.json), older runs' flat corpus fields included."""
        stages = [dict(s, set={new: v for key, v in s.get("set", {}).items() for new in legacy_keys(key)})
                  for s in d.get("stages", [])]
        train = {k: v for k, v in d["train"].items() if k not in RETIRED_TRAIN}
        return cls(ModelConfig(**d["model"]), TrainConfig(**train), CorpusConfig.from_dict(d["data"]), stages)


# Shapes: the model and its training settings. `tiny` is the CPU default; the GPU shapes follow the usual
# GPT-style scaling. A shape that sets train.steps has that budget: a recipe's stages (written at the
# tiny shapes' scale) keep their shares of it (`scale_stages`); the CPU shapes run a recipe's own steps.
# Context lengths from 1,024 tokens fit most semantic items' balanced ICL contexts, 4,096 (xl) over 80%
# (docs/log/2026-12-01-semantic-context-length.md); tokens a step are 16 x 256, 32 x 1,024 (small,
# medium: 64 x 1,024), 128 x 1,024 (large), 64 x 4,096 (xl).
_TINY_MODEL = dict(n_layer=4, d_model=128, n_head=4, seq_len=256)
_TINY_TRAIN = dict(batch_size=16, lr=1e-3, min_lr=1e-4, warmup=100, eval_every=250, ckpt_every=500,
                   log_every=10)
SHAPES: dict[str, dict[str, Any]] = {
    "tiny": {  # ~1.0M params; roles2: 1,500 steps x 16 x 256 = 6.1M tokens (the tiny-roles2 preset)
        "model": _TINY_MODEL,
        "train": _TINY_TRAIN,
    },
    # tiny with eight heads of 16 dimensions (the same parameters): on roles2r-long it formed the role on
    # more pretraining seeds than four heads did (docs/log/2026-12-02-replay-once.md). The default preset
    # `tiny` is this shape on roles2r-long-rwa: 2,500 steps x 16 x 256 = 10.2M tokens
    "tiny8": {"model": dict(_TINY_MODEL, n_head=8), "train": _TINY_TRAIN},
    "mini": {  # ~3M params, the second CPU rung: tiny's recipe and data budget, 3x the parameters
        "model": dict(n_layer=6, d_model=192, n_head=6, seq_len=256),
        "train": dict(_TINY_TRAIN, lr=8e-4, min_lr=8e-5),
    },
    "small": {  # ~11M params, one GPU (minutes)
        "model": dict(n_layer=6, d_model=384, n_head=6, seq_len=1024),
        "train": dict(batch_size=32, lr=2e-3, min_lr=2e-4, warmup=200, steps=5000, eval_every=500,
                      ckpt_every=1000, log_every=20),
    },
    "medium": {  # ~50M params
        "model": dict(n_layer=10, d_model=640, n_head=10, seq_len=1024),
        "train": dict(batch_size=64, lr=1e-3, min_lr=1e-4, warmup=500, steps=10000, eval_every=1000,
                      ckpt_every=2000, log_every=20),
    },
    "large": {  # ~135M params (with a 1,603-token vocabulary)
        "model": dict(n_layer=12, d_model=1024, n_head=16, n_kv_head=4, seq_len=1024),
        "train": dict(batch_size=128, lr=6e-4, min_lr=6e-5, warmup=1000, steps=20000, eval_every=2000,
                      ckpt_every=2000, log_every=50),
    },
    "xl": {  # ~340M params; sharded (FSDP2) when run under torchrun
        "model": dict(n_layer=24, d_model=1152, n_head=18, n_kv_head=6, seq_len=4096),
        "train": dict(batch_size=64, lr=3e-4, min_lr=3e-5, warmup=2000, steps=40000, eval_every=2000,
                      ckpt_every=2000, log_every=50, parallel="fsdp"),
    },
}


def preset(shape: str, recipe: str) -> dict[str, Any]:
    """The preset of a shape trained on a recipe (its sections: model, train, data, stages)."""
    return {**SHAPES[shape], **RECIPES[recipe]}


# name -> (shape, recipe). Every rung of the ladder (tiny, mini, small ... xl) trains on the default's
# recipe, so a sweep over them varies size only: the one recipe every rung shares is LADDER_RECIPE.
LADDER_RECIPE = "roles2r-long-rwa"
LADDER = ("tiny", "mini", "small", "medium", "large", "xl")
PRESET_RECIPES = {
    # the default: every dataset's vocabulary (coverage 1.0 on all five), the reversal role and local
    # rewrites of comparisons (docs/log/2026-12-05-all-vocabulary-default.md)
    "tiny": ("tiny8", LADDER_RECIPE),
    # the default until 2026-12-05 (evening): comparisons only (docs/log/2026-12-05-rewrite-documents.md)
    "tiny-rw": ("tiny8", "roles2r-long-rw"),
    "tiny-roles2": ("tiny", "roles2"),  # the default until 2026-12-05 (10-13 min; the role on 1 seed of 4)
    "tiny-mixed": ("tiny", "mixed"),  # the default until 2026-11-27: 2,000 steps
    "tiny-roles": ("tiny", "roles5"),
    "tiny-icl": ("tiny", "roles2-syllogism"),  # docs/log/2026-11-27-tiny-icl-preset.md
    "tiny-all": ("tiny", "roles2m-all-3k"),  # docs/log/2026-12-01-stage-robustness.md
    "tiny-rr": ("tiny8", "roles2r-long"),  # the role on 4 pretraining seeds of 6 (~25 min on the CPU)
    # tiny, then 2,000 steps of syllogisms, 1-6 premise pairs a document: syllogisms in context
    # (docs/log/2026-12-06-syllogism-stages.md)
    "tiny-syl": ("tiny8", "roles2r-long-rwa-sylc6"),
    # tiny, then 3,000 steps with people rewrites: the role word read, people rewrites valid, the reversal
    # curse's aug-ft-local far above FT (docs/log/2026-12-06-role-word.md)
    "tiny-people": ("tiny8", "roles2r-long-rwa-rwp3"),
    # the ladder's other rungs: the default's recipe, with the GPU shapes' steps (until 2026-12-06 the
    # GPU rungs trained on `mixed`, on which tiny-mixed learned nothing)
    **{rung: (rung, LADDER_RECIPE) for rung in LADDER[1:]},
}
PRESETS: dict[str, dict[str, Any]] = {name: preset(*pair) for name, pair in PRESET_RECIPES.items()}


def get_preset(name: str, recipe: str | None = None) -> RunConfig:
    """The preset `name`'s config; `recipe`: train its shape on another recipe instead."""
    if name not in PRESETS:
        raise UserError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    values = PRESETS[name]
    if recipe is not None:
        if recipe not in RECIPES:
            raise UserError(f"unknown recipe {recipe!r}; choose one of: {', '.join(RECIPES)}")
        values = {**{k: v for k, v in values.items() if k not in ("data", "stages")}, **RECIPES[recipe]}
    cfg, budget = RunConfig(), values.get("train", {}).get("steps")
    for section, items in values.items():
        if section == "stages":
            cfg.stages = scale_stages(items, budget or sum(int(stage["steps"]) for stage in items))
            cfg.train.steps = sum(stage["steps"] for stage in cfg.stages)
            continue
        for key, value in items.items():
            _set(cfg, f"{section}.{key}", value)
    cfg = rebuilt(cfg)
    stage_configs(cfg)  # every stage's settings are valid
    return cfg


def scale_stages(stages: list, steps: int) -> list:
    """The same curriculum in `steps` steps: each stage keeps its share of the run (at least one step)."""
    if steps < len(stages):
        raise UserError(f"--steps {steps}: this preset runs {len(stages)} stages and needs at least "
                        f"{len(stages)} steps")
    total, cum, done, out = sum(int(st["steps"]) for st in stages), 0, 0, []
    for i, stage in enumerate(stages):
        cum += int(stage["steps"])
        end = min(max(round(steps * cum / total), done + 1), steps - (len(stages) - 1 - i))
        out.append(dict(stage, steps=end - done, set=dict(stage.get("set", {}))))
        done = end
    return out


def stage_configs(cfg: RunConfig) -> list[tuple[int, RunConfig]]:
    """(first step, config) of each stage of a run: the run's config with the stage's settings on top and
    train.steps = the stage's steps. A run without stages is one stage, (0, cfg)."""
    if not cfg.stages:
        return [(0, cfg)]
    plan, begin = [], 0
    for i, stage in enumerate(cfg.stages):
        staged = rebuilt(cfg)
        staged.stages = []
        for key, value in stage.get("set", {}).items():
            if not key.startswith(("data.", "train.")) or key == "train.steps":
                raise UserError(f"stage {i + 1} sets {key!r}; a stage may set data.X and train.X "
                                "(not train.steps)")
            _set(staged, key, value)
        staged.train.steps = int(stage["steps"])
        if staged.train.steps < 1:
            raise UserError(f"stage {i + 1} has {staged.train.steps} steps; each stage needs at least 1")
        plan.append((begin, rebuilt(staged)))
        begin += staged.train.steps
    return plan


def _set(cfg: RunConfig, key: str, value: Any) -> None:
    if key.partition(".")[0] not in SECTIONS:
        raise UserError(f"unknown config key {key!r}; keys look like model.X, train.X or data.X")
    set_key(cfg, key, value)


def apply_overrides(cfg: RunConfig, overrides: list[str]) -> RunConfig:
    """`cfg` with each "KEY=VALUE" of `overrides` applied (typed, checked)."""
    staged = {key for stage in cfg.stages for key in stage.get("set", {})}
    for item in overrides:
        key = item.partition("=")[0].strip()
        if key.partition(".")[0] not in SECTIONS and "=" in item:
            raise UserError(f"unknown config key {key!r}; keys look like model.X, train.X or data.X")
        if key in LEGACY_NAMES:
            raise UserError(f"--set {key}: corpus fields are named differently since 2026-12-01; use "
                            f"{' and '.join(legacy_keys(key))}")
        if key == "train.steps" and cfg.stages:
            raise UserError("--set train.steps: this preset runs in stages; use --steps N, which gives each "
                            "stage its share of N")
        if any(key == k or k.startswith(key + ".") or key.startswith(k + ".") for k in staged):
            raise UserError(f"--set {key}: this preset's stages set it; change it in the recipe's stages "
                            "(minigen/config.py) or use a recipe without stages")
    cfg = apply(cfg, overrides)
    stage_configs(cfg)
    return cfg


LEGACY_NAMES = {f"data.{name}" for name in LEGACY}


def config_keys_help() -> str:
    """Every `--set` key of pretraining, generated from the dataclasses (for --help)."""
    return ", ".join(keys(RunConfig()))
