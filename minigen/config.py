"""Configuration: typed dataclasses, the preset ladder (one table), and `--set KEY=VALUE` overrides.

A run is fully described by a `RunConfig` (model + train + data). Presets are small dicts of
overrides on the dataclass defaults; `apply_overrides` turns strings like "train.lr=1e-3" into typed
values and raises a one-line `UserError` for anything a user can get wrong.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from minigen.errors import UserError

if TYPE_CHECKING:
    from minigen.data.corpus import CorpusConfig


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

    def __post_init__(self) -> None:
        if self.attn_backend not in ("auto", "triton", "sdpa", "eager"):
            raise UserError(
                f"model.attn_backend={self.attn_backend!r} is unknown; use auto, triton, sdpa or eager")
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
    seed: int = 0
    dtype: str = "auto"  # auto (bf16 autocast on CUDA, fp32 on CPU) | float32 | bfloat16
    compile: bool = True  # torch.compile the model (CPU and GPU) ...
    compile_min_steps: int = 500  # ... when the run has at least this many steps left (compiling takes ~20 s)
    # Compiled runs bitwise reproducible: deterministic algorithms and inductor's deterministic mode
    # (without it, inductor's parallel kernels accumulate in a varying order: two runs differ).
    deterministic: bool = True
    num_threads: int = 0  # CPU threads for torch; 0: torch's default
    parallel: str = "ddp"  # under torchrun: ddp (whole model per process) | fsdp (FSDP2: sharded state)
    log_every: int = 10
    eval_every: int = 250  # held-out loss + in-context probe; 0: only at the end
    ckpt_every: int = 500  # 0: only at the end
    probe_items: int = 60  # test items per probe dataset
    probe_other_docs: int = 3  # extra (unneeded) training documents in each probe context
    heldout_rows: int = 16  # rows of held-out corpus for the held-out loss

    def __post_init__(self) -> None:
        if self.dtype not in ("auto", "float32", "bfloat16"):
            raise UserError(f"train.dtype={self.dtype!r} is unknown; use auto, float32 or bfloat16")
        if self.parallel not in ("ddp", "fsdp"):
            raise UserError(f"train.parallel={self.parallel!r} is unknown; use ddp or fsdp")
        if self.batch_size < 1 or self.grad_accum < 1 or self.batch_size % self.grad_accum:
            raise UserError(
                f"train.batch_size={self.batch_size} must be a positive multiple of "
                f"train.grad_accum={self.grad_accum}"
            )


def _default_corpus() -> CorpusConfig:
    from minigen.data.corpus import CorpusConfig

    return CorpusConfig()


SECTIONS = ("model", "train", "data")


@dataclass
class RunConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    data: Any = field(default_factory=_default_corpus)  # minigen.data.corpus.CorpusConfig
    # A curriculum: pretraining runs these stages in order, each {"steps": N, "set": {"data.X": value,
    # "train.Y": value}} on top of the sections above, with a fresh optimizer and its own warmup and
    # cosine schedule (`stage_configs`). Empty: one stage, the run itself. Set by presets only.
    stages: list = field(default_factory=list)

    def to_dict(self) -> dict:
        d = {name: dataclasses.asdict(getattr(self, name)) for name in SECTIONS}
        if self.stages:  # absent otherwise, so runs without stages keep their config.json
            d["stages"] = [dict(s, set=dict(s.get("set", {}))) for s in self.stages]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> RunConfig:
        from minigen.data.corpus import CorpusConfig

        return cls(ModelConfig(**d["model"]), TrainConfig(**d["train"]), CorpusConfig(**d["data"]),
                   list(d.get("stages", [])))


# The scaling ladder. Each rung fully specifies shape, context, batch, LR and steps; anything not
# listed keeps the dataclass default. `tiny` is the CPU default (about 10 minutes on 2 cores), a
# curriculum of role-curriculum documents; `tiny-mixed` is the same shape on the mixed corpus that every
# other rung uses; `tiny-roles` and `tiny-icl` are longer, earlier curricula
# (docs/log/2026-11-27-role-curriculum.md); the GPU rungs follow the usual GPT-style scaling.
# tiny-roles' stages after the first: a stream the first never saw, a short warmup; templates and prefixes
_LATER = {"data.seed": 11, "train.warmup": 50}
_TEMPLATES = {"data.roles_more_share": 0.5, "data.canonical_share": 0.5, "data.prefix_prob": 0.4}
_REPEATED = {**_TEMPLATES, "data.repeats_max": 6}  # each fact stated 1-7 times
# The tiny-roles / tiny-icl corpus: role-curriculum documents only, 2-3 facts, canonical template
_ROLES_CORPUS = dict(w_icl_reversal=0.0, w_icl_syllogism=0.0, w_icl_other=0.0, w_icl_people=0.0, w_facts=0.0,
                     w_rewrite=0.0, w_inference=0.0, w_qa=0.0, w_icl_roles=1.0, facts_min=2, facts_max=3,
                     canonical_share=1.0, prefix_prob=0.0, repeats_max=0, same_share=0.5)
_ROLES_STAGES = [
    # 1. reversals only, 80% of later facts confusers: retrieval by the word's role
    dict(steps=750, set={"data.roles_mode": "flip", "data.roles_confusers": 0.8}),
    # 2. both directions (a new stream), every fact "more": the answer is the role itself
    dict(steps=750, set={**_LATER, "data.roles_more_share": 1.0}),
    # 3. half the documents with random comparatives: role x comparative
    dict(steps=1000, set={**_LATER, "data.roles_more_share": 0.5}),
    # 4. the corpus's templates and prefixes
    dict(steps=1000, set={**_LATER, **_TEMPLATES}),
    # 5. each fact stated 1-7 times, as the dataset's articles repeat it
    dict(steps=1000, set={**_LATER, **_REPEATED}),
]

# The tiny shape and recipe, shared by the default and the curricula (their steps come from their stages)
_TINY_MODEL = dict(n_layer=4, d_model=128, n_head=4, seq_len=256)
_TINY_TRAIN = dict(batch_size=16, lr=1e-3, min_lr=1e-4, warmup=100, eval_every=250, ckpt_every=500,
                   log_every=10)

# The default: reversals in one direction with confusers (the word's role), then the final corpus at once
# (both directions, templates, prefixes, restated facts). Found at 600 + 1,400 steps, cut to 500 + 1,000
# to fit 10 minutes (docs/log/2026-11-27-two-stage-curriculum.md).
_TINY_STAGES = [
    dict(steps=500, set={"data.roles_mode": "flip", "data.roles_confusers": 0.8}),
    dict(steps=1000, set={**_LATER, **_REPEATED}),
]

PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {  # ~1.0M params, CPU: 1500 steps x 16 x 256 = 6.1M tokens
        "model": _TINY_MODEL,
        "train": _TINY_TRAIN,
        "data": _ROLES_CORPUS,
        "stages": _TINY_STAGES,
    },
    "tiny-mixed": {  # the default until 2026-11-27: tiny's shape on the mixed corpus, 2000 steps
        "model": _TINY_MODEL,
        "train": {**_TINY_TRAIN, "steps": 2000},
        # The corpus defaults (dense in-context reversal / syllogism documents). lr 1e-3, not the 6e-3
        # that minimizes early loss: at 6e-3 the model never forms an induction (copy) head in 8M
        # tokens; at 1e-3 it does (docs/log/2026-11-26-retrieval-diagnosis.md).
        "data": {},
    },
    # tiny, taught the reversal's copy-or-flip choice in five stages (docs/log/2026-11-27-role-curriculum.md):
    # 4,500 steps, 18.4M tokens of role-curriculum documents only (2-3 facts each). No syllogisms.
    "tiny-roles": {
        "model": _TINY_MODEL,
        "train": _TINY_TRAIN,
        "data": _ROLES_CORPUS,
        "stages": _ROLES_STAGES,
    },
    # tiny's two stages, then syllogisms: 3,500 steps, 14.3M tokens; what one run reached is in
    # docs/log/2026-11-27-tiny-icl-preset.md.
    "tiny-icl": {
        "model": _TINY_MODEL,
        "train": _TINY_TRAIN,
        "data": _ROLES_CORPUS,
        "stages": [
            *_TINY_STAGES,
            # 3. in-context syllogism documents only (1-3 premise pairs with their questions)
            dict(steps=1000, set={**_LATER, **_REPEATED, "data.seed": 12, "data.w_icl_roles": 0.0,
                                  "data.w_icl_syllogism": 1.0}),
            # 4. both: the reversal comes back, the syllogisms stay
            dict(steps=1000, set={**_LATER, **_REPEATED, "data.seed": 13, "data.w_icl_roles": 0.5,
                                  "data.w_icl_syllogism": 0.5}),
        ],
    },
    "mini": {  # ~3M params, the second CPU rung: tiny's data budget, 3x the parameters (~25 min on CPU)
        "model": dict(n_layer=6, d_model=192, n_head=6, seq_len=256),
        "train": dict(batch_size=16, lr=8e-4, min_lr=8e-5, warmup=100, steps=2000, eval_every=250,
                      ckpt_every=500, log_every=10),
        "data": {},
    },
    "small": {  # ~11M params, one GPU (minutes)
        "model": dict(n_layer=6, d_model=384, n_head=6, seq_len=512),
        "train": dict(batch_size=64, lr=2e-3, min_lr=2e-4, warmup=200, steps=5000, eval_every=500,
                      ckpt_every=1000, log_every=20),
        "data": {},
    },
    "medium": {  # ~50M params
        "model": dict(n_layer=10, d_model=640, n_head=10, seq_len=1024),
        "train": dict(batch_size=64, lr=1e-3, min_lr=1e-4, warmup=500, steps=10000, eval_every=1000,
                      ckpt_every=2000, log_every=20),
        "data": {},
    },
    "large": {  # ~135M params (with a 1,603-token vocabulary)
        "model": dict(n_layer=12, d_model=1024, n_head=16, n_kv_head=4, seq_len=1024),
        "train": dict(batch_size=128, lr=6e-4, min_lr=6e-5, warmup=1000, steps=20000, eval_every=2000,
                      ckpt_every=2000, log_every=50),
        "data": {},
    },
    "xl": {  # ~340M params; sharded (FSDP2) when run under torchrun
        "model": dict(n_layer=24, d_model=1152, n_head=18, n_kv_head=6, seq_len=2048),
        "train": dict(batch_size=128, lr=3e-4, min_lr=3e-5, warmup=2000, steps=40000, eval_every=2000,
                      ckpt_every=2000, log_every=50, parallel="fsdp"),
        "data": {},
    },
}


def get_preset(name: str) -> RunConfig:
    if name not in PRESETS:
        raise UserError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    cfg = RunConfig()
    for section, values in PRESETS[name].items():
        if section == "stages":
            cfg.stages = [dict(stage, set=dict(stage.get("set", {}))) for stage in values]
            cfg.train.steps = sum(stage["steps"] for stage in values)
            continue
        for key, value in values.items():
            _set_field(cfg, f"{section}.{key}", value)
    cfg = _copy(cfg)
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
        staged = _copy(cfg)
        staged.stages = []
        for key, value in stage.get("set", {}).items():
            if not key.startswith(("data.", "train.")) or key == "train.steps":
                raise UserError(f"stage {i + 1} sets {key!r}; a stage may set data.X and train.X "
                                "(not train.steps)")
            _set_field(staged, key, value)
        staged.train.steps = int(stage["steps"])
        if staged.train.steps < 1:
            raise UserError(f"stage {i + 1} has {staged.train.steps} steps; each stage needs at least 1")
        plan.append((begin, _copy(staged)))
        begin += staged.train.steps
    return plan


def parse_value(key: str, text: str, current: Any) -> Any:
    """`text` (from `--set key=text`) as a value of `current`'s type; UserError when it is not one."""
    kind = type(current)
    try:
        if kind is bool:
            low = text.strip().lower()
            if low not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            return low in ("true", "1", "yes")
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
        if kind is str:
            return text
    except ValueError:
        raise UserError(f"--set {key}={text}: expected a {kind.__name__}") from None
    raise UserError(f"--set {key}: field of type {kind.__name__} cannot be set from the command line")


def _set_field(cfg: RunConfig, key: str, value: Any) -> None:
    section, _, name = key.partition(".")
    sections = ("model", "train", "data")
    if section not in sections or not name:
        raise UserError(f"unknown config key {key!r}; keys look like model.X, train.X or data.X")
    obj = getattr(cfg, section)
    names = [f.name for f in dataclasses.fields(obj)]
    if name not in names:
        raise UserError(f"unknown config key {key!r}; {section} fields are: {', '.join(names)}")
    current = getattr(obj, name)
    if isinstance(value, str) and not isinstance(current, str):
        value = parse_value(key, value, current)
    elif isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    setattr(obj, name, value)


def _copy(cfg: RunConfig) -> RunConfig:
    """A copy whose sections are new objects (dataclasses.replace re-runs each section's __post_init__
    checks on the current values)."""
    return RunConfig(**{s: dataclasses.replace(getattr(cfg, s)) for s in SECTIONS}, stages=list(cfg.stages))


def apply_overrides(cfg: RunConfig, overrides: list[str]) -> RunConfig:
    cfg = _copy(cfg)
    staged = {key for stage in cfg.stages for key in stage.get("set", {})}
    if cfg.stages:
        staged.add("train.steps")
    for item in overrides:
        key, eq, text = item.partition("=")
        if not eq:
            raise UserError(f"--set {item!r}: expected KEY=VALUE, e.g. --set train.lr=1e-3")
        if key.strip() == "train.steps" and cfg.stages:
            raise UserError("--set train.steps: this preset runs in stages; use --steps N, which gives each "
                            "stage its share of N")
        if key.strip() in staged:
            raise UserError(f"--set {key.strip()}: this preset's stages set it; change it in the preset's "
                            "stages (minigen/config.py) or use a preset without stages")
        _set_field(cfg, key.strip(), text.strip())
    cfg = _copy(cfg)
    stage_configs(cfg)
    return cfg
