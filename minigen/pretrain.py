"""`minigen pretrain`: resolve the config, set up the run directory (or resume it), train, probe, save.

Data-parallel under torchrun: every process builds its own rows of the corpus stream (row =
step * global_batch + rank * local_batch + i, micro-batches in order), only rank 0 writes files.
With `train.parallel=fsdp` the model is sharded (FSDP2): probing and checkpointing are then collectives.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch
import torch.distributed as dist

from minigen import checkpoint as ckpt
from minigen.config import RunConfig, apply_overrides, get_preset, scale_stages, stage_configs
from minigen.errors import UserError
from minigen.files import atomic_write, atomic_write_text, output_dir
from minigen.parallel import load_full_state, shard
from minigen.tracking import WANDB_MODES, ConsoleProgress, baseline_summary, make_logger
from minigen.train import (
    StepInfo,
    freeze,
    frozen_prefixes,
    make_optimizer,
    targets_within_documents,
    train,
    world,
)


def setup_distributed() -> torch.device:
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    if torch.cuda.is_available():
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        return torch.device("cuda", local)
    return torch.device("cpu")


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def resolve_config(preset: str, steps: int | None, overrides: list[str],
                   recipe: str | None = None) -> RunConfig:
    cfg = apply_overrides(get_preset(preset, recipe), overrides)
    if steps is not None:
        if steps < 1:
            raise UserError(f"--steps {steps}: must be a positive number of optimizer steps")
        if cfg.stages:  # the curriculum, each stage scaled to its share of the steps
            cfg.stages = scale_stages(cfg.stages, steps)
        cfg.train.steps = steps
    return cfg


def cached_tokenizer(data_cfg):
    """train_tokenizer(data_cfg), cached on disk by (data config, data-layer source): training takes
    seconds of a tiny run's budget and is deterministic. MINIGEN_CACHE overrides ~/.cache/minigen."""
    import dataclasses
    import hashlib
    import json

    from minigen.data.tokenizer import Tokenizer, train_tokenizer

    digest = hashlib.sha256(json.dumps(dataclasses.asdict(data_cfg), sort_keys=True).encode())
    for source in sorted((Path(__file__).parent / "data").rglob("*.py")):
        digest.update(source.read_bytes())
    cache = Path(os.environ.get("MINIGEN_CACHE", Path.home() / ".cache" / "minigen"))
    path = cache / f"tokenizer-{digest.hexdigest()[:16]}.json"
    if path.exists():
        try:
            return Tokenizer.load(path)
        except UserError:
            pass  # a damaged cache entry: retrain and overwrite it
    tokenizer = train_tokenizer(data_cfg)
    try:
        cache.mkdir(parents=True, exist_ok=True)
        atomic_write(path, tokenizer.save)
    except OSError:
        pass  # the cache is an optimization only
    return tokenizer


def prepare_run_dir(out: Path, resume: bool, flag: str = "--resume") -> None:
    output_dir(out)
    if resume:
        if not (out / ckpt.CONFIG).exists():
            raise UserError(f"{flag}: {out} holds no run to continue; start it with "
                            f"`minigen pretrain --out {out}`")
    elif out.exists() and any(out.iterdir()):
        raise UserError(f"{out} is not empty; pass --resume to continue that run, or choose a new --out")


class RowStream:
    """Batches of the corpus for one process, produced one step ahead in a background thread."""

    def __init__(self, cfg: RunConfig, tokenizer, device: torch.device):
        from minigen.data.corpus import packed_rows

        self.workers = None
        if cfg.train.data_workers:  # rows packed by worker processes: the same rows, faster
            from minigen.data.workers import RowWorkers

            self.workers = RowWorkers(tokenizer, cfg.train.data_workers)
            packed_rows = self.workers.packed_rows
        self.packed_rows, self.cfg, self.tokenizer, self.device = packed_rows, cfg, tokenizer, device
        self.rank, self.world = world()
        self.pool = ThreadPoolExecutor(1)
        self.pending: dict[int, object] = {}

    def rows(self, step: int):
        t = self.cfg.train
        local, micro_count = t.batch_size // self.world, t.grad_accum
        micro = local // micro_count
        parts = []
        for m in range(micro_count):  # micro-batch m covers global rows [base, base + global/accum)
            base = step * t.batch_size + m * (t.batch_size // micro_count) + self.rank * micro
            parts.append(self.packed_rows(self.cfg.data, self.tokenizer, self.cfg.model.seq_len, base, micro))
        tokens = torch.cat([torch.as_tensor(p[0], dtype=torch.long) for p in parts])
        segs = torch.cat([torch.as_tensor(p[1], dtype=torch.long) for p in parts])
        return targets_within_documents(tokens, segs)

    def __call__(self, step: int):
        future = self.pending.pop(step, None)
        batch = future.result() if future is not None else self.rows(step)
        if step + 1 < self.cfg.train.steps:
            self.pending[step + 1] = self.pool.submit(self.rows, step + 1)
        return tuple(t.to(self.device, non_blocking=True) for t in batch)

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)
        if self.workers is not None:
            self.workers.close()


def run_pretrain(preset: str = "tiny", out: Path | None = None, steps: int | None = None,
                 resume: bool = False, overrides: list[str] | None = None,
                 wandb_mode: str = "offline", recipe: str | None = None, extend: bool = False) -> Path:
    """Pretrain into `out`. `resume`: continue the run there exactly where it stopped. `extend`: continue it
    under a config that runs the run's stages unchanged and then more (a longer recipe), exactly as a
    run of that config from step 0 would; config.json then holds the new config."""
    from minigen.data.tokenizer import Tokenizer
    from minigen.eval.coverage import corpus_token_counts, write_counts
    from minigen.model import Transformer
    from minigen.probe import Probe

    if wandb_mode not in WANDB_MODES:
        raise UserError(f"--wandb {wandb_mode!r} is unknown; use online, offline or disabled")
    cfg = resolve_config(preset, steps, overrides or [], recipe)
    out = Path(out) if out is not None else Path("runs") / preset
    resume = resume or extend
    # every rank checks, so a bad call fails everywhere at once
    prepare_run_dir(out, resume, "--extend" if extend else "--resume")
    device = setup_distributed()
    rank, world_size = world()
    if cfg.train.batch_size % (world_size * cfg.train.grad_accum):
        raise UserError(f"train.batch_size={cfg.train.batch_size} must divide by processes x grad_accum "
                        f"= {world_size} x {cfg.train.grad_accum}")
    if cfg.train.num_threads > 0 and device.type == "cpu":
        torch.set_num_threads(cfg.train.num_threads)

    # Tokenizer: trained once at the start of a new run (rank 0), reused on resume and by other ranks.
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        if not resume or not (out / ckpt.TOKENIZER).exists():
            atomic_write(out / ckpt.TOKENIZER, cached_tokenizer(cfg.data).save)
    barrier()
    tokenizer = Tokenizer.load(out / ckpt.TOKENIZER)
    if cfg.model.vocab_size == 0:
        cfg.model.vocab_size = tokenizer.vocab_size
    old = ckpt.read_config(out) if resume else None
    if extend and ckpt.config_difference(old, cfg) is None:
        extend = False  # extended already (and stopped since): continue it as --resume does
    if extend:
        diff = ckpt.extension_difference(old, cfg)
        if diff is not None:
            raise UserError(f"--extend: this config does not extend the run in {out} ({diff}); use a recipe "
                            "that runs the run's stages unchanged, then more")
        if rank == 0:
            meta = ckpt.read_meta(out)
            ckpt.write_config(out, cfg, {**meta, "recipe": recipe, "extended": [
                *meta.get("extended", []),
                {"from_recipe": meta.get("recipe"), "from_steps": old.train.steps, **ckpt.provenance()}]})
    elif resume:
        diff = ckpt.config_difference(old, cfg)
        if diff is not None:
            raise UserError(f"--resume with a different config ({diff}); rerun with the run's own settings "
                            f"or start a new --out")
    elif rank == 0:
        ckpt.write_config(out, cfg, {**ckpt.provenance(), "preset": preset, "recipe": recipe,
                                     "world_size": world_size,
                                     "tokenizer_sha256": ckpt.file_sha256(out / ckpt.TOKENIZER)})

    torch.manual_seed(cfg.train.seed)
    model = Transformer(cfg.model).to(device)
    for _, stage in stage_configs(cfg):  # every stage's train.frozen names parameters, before any trains
        frozen_prefixes(model, stage.train.frozen)
    sharded = world_size > 1 and cfg.train.parallel == "fsdp"
    if sharded:
        shard(model)
    start = 0
    state = ckpt.load_trainer_state(out) if resume else None
    if state is not None:
        start = state["step"]
    if rank == 0:
        ckpt.truncate_metrics(out, start)

    main = rank == 0
    logger = make_logger(wandb_mode, out, cfg.to_dict(), name=out.name, enabled=main)
    # A sharded model's forward is a collective: every process runs the probe, rank 0 reports it.
    # The stream's token counts (what compare's vocabulary coverage reads), kept before the first step:
    # the probe leaves out the datasets they do not cover.
    counts = corpus_token_counts(cfg, tokenizer) if main or sharded else None
    if main:
        write_counts(out, counts)
    probe = Probe(cfg, tokenizer, device, counts) if main or sharded else None
    progress = ConsoleProgress(cfg.train.steps, start, enabled=main)
    if main:
        progress.note(f"minigen pretrain: {preset}, {model.num_params() / 1e6:.2f}M params, "
                      f"{cfg.train.steps} steps x {cfg.train.batch_size} x {cfg.model.seq_len} tokens, "
                      f"{world_size} process(es) on {device.type}, run dir {out}")
        atomic_write_text(out / ckpt.BASELINES, json.dumps(probe.baselines, indent=1))
        logger.summary(baseline_summary(probe.baselines))
        if probe.baselines:
            progress.note("probe baselines (chance/strongest heuristic): " + ", ".join(
                f"{k} {b['chance']:.2f}/{max(v for h, v in b.items() if h != 'chance'):.2f}"
                if len(b) > 1 else f"{k} {b['chance']:.2f}" for k, b in probe.baselines.items()))
        if probe.uncovered:
            progress.note("probe: not run, their vocabulary not in this recipe's stream (coverage): " +
                          ", ".join(f"{k} {v:.2f}" for k, v in probe.uncovered.items()))
        left_out = {k: n for k, n in probe.skipped.items() if n}
        if left_out:
            parts = ", ".join(f"{n} {k} items" for k, n in left_out.items())
            progress.note(f"probe: left out, their documents longer than model.seq_len={cfg.model.seq_len}: "
                          f"{parts}")
    tokens_per_step = cfg.train.batch_size * cfg.model.seq_len
    t0 = time.perf_counter()

    def evaluate(step: int) -> dict:
        metrics = probe.run(model)
        progress.note(f"step {step} ({step * tokens_per_step / 1e6:.1f}M tokens): " +
                      ", ".join(f"{k} {v:.3f}" for k, v in metrics.items()))
        return metrics

    def on_step(info: StepInfo, stage_end: int) -> None:
        t = cfg.train
        evaluating = (t.eval_every and info.step % t.eval_every == 0) or info.step == stage_end
        saving = (t.ckpt_every and info.step % t.ckpt_every == 0) or info.step == stage_end
        if not main:
            if sharded:  # a sharded model's forward and state gathering are collectives: take part
                if evaluating:
                    probe.run(model)
                if saving:
                    ckpt.save_checkpoint(out, model, optimizer, info.step, info.step * t.batch_size)
            return
        record = {}
        if info.loss is not None:
            record = {"loss": info.loss, "lr": info.lr, "tokens_per_s": info.tokens_per_s,
                      "grad_norm": info.grad_norm}
        if evaluating:
            record.update(evaluate(info.step))
        if record:
            record = {"step": info.step, "tokens": info.step * tokens_per_step,
                      "elapsed_s": round(time.perf_counter() - t0, 2), **record}
            ckpt.append_metrics(out, record)
            logger.log(record, step=info.step)
        progress.update(info.step, info.loss, info.tokens_per_s if info.loss is not None else None)
        if saving:
            ckpt.save_checkpoint(out, model, optimizer, info.step, info.step * t.batch_size)

    try:
        # Stages (a curriculum; one stage without) run in order, each with a fresh optimizer and its own
        # schedule; steps, checkpoints and metrics count across stages. A resume inside a stage restores
        # its optimizer; one at a stage's first step starts the stage fresh.
        for begin, stage in stage_configs(cfg):
            end = begin + stage.train.steps
            if start >= end:
                continue
            freeze(model, stage.train.frozen)
            optimizer = make_optimizer(model, stage.train)
            if state is not None:  # restore the checkpoint once, where training picks up
                resumed_optimizer = optimizer if start > begin else None
                load_full_state(model, resumed_optimizer, state["model"], state["optimizer"])
                ckpt.set_rng_states(state["rng"])
                state = None

            def stage_step(info: StepInfo, begin=begin, end=end) -> None:
                on_step(dataclasses.replace(info, step=begin + info.step), end)

            stream = RowStream(stage, tokenizer, device)
            try:
                train(model, stream, stage.train, optimizer=optimizer, start_step=max(0, start - begin),
                      on_step=stage_step)
            finally:
                stream.close()
        barrier()
    finally:
        progress.close()
        logger.finish()
    if main:
        progress.note(f"done: {cfg.train.steps} steps in {time.perf_counter() - t0:.0f} s; run dir {out}")
    if dist.is_initialized():
        dist.destroy_process_group()
    return out
