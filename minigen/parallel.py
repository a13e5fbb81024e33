"""Data parallelism for pretraining: DDP (every process holds the whole model) or FSDP2 (parameters,
gradients and optimizer state sharded across processes; `train.parallel=fsdp`, for the largest rungs).

Both give the same gradient as one process with the same global batch. What differs is the state:
under FSDP each process holds a shard, so reading the weights for a checkpoint, and loading them on
resume, are collectives that every process must enter. `full_state` gathers the whole model and
optimizer (on rank 0, on CPU): model.safetensors has the same layout however the run was trained, so
evaluation never needs to know; trainer_state.pt keys FSDP optimizer state by parameter name.
"""

from __future__ import annotations

import contextlib

import torch
import torch.distributed as dist


def shard(model: torch.nn.Module) -> torch.nn.Module:
    """FSDP2: one shard group per transformer block, the rest (embeddings, final norm, the tied head)
    in the root group. Call before building the optimizer; the module is changed in place. Inference
    (minigen.inference) runs the model only through forward, whose hooks gather the shards."""
    from torch.distributed.fsdp import fully_shard

    for block in model.blocks:
        fully_shard(block)
    fully_shard(model)
    return model


def is_sharded(model: torch.nn.Module) -> bool:
    from torch.distributed.fsdp import FSDPModule

    return isinstance(model, FSDPModule)


def gradient_sync(model: torch.nn.Module, wrapped: torch.nn.Module, sync: bool):
    """Context for one micro-batch's backward: reduce gradients only on the last one."""
    if sync:
        return contextlib.nullcontext()
    if is_sharded(model):
        model.set_requires_gradient_sync(False)
        return _resync(model)
    if isinstance(wrapped, torch.nn.parallel.DistributedDataParallel):
        return wrapped.no_sync()
    return contextlib.nullcontext()


@contextlib.contextmanager
def _resync(model):
    try:
        yield
    finally:
        model.set_requires_gradient_sync(True)


def local_value(t: torch.Tensor) -> torch.Tensor:
    """A DTensor (e.g. the grad norm of sharded parameters) as a plain tensor with the global value."""
    return t.full_tensor() if hasattr(t, "full_tensor") else t


def full_state(model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> tuple[dict, dict] | None:
    """(model state dict, optimizer state dict), whole. Unsharded: the plain dicts. Sharded: a collective;
    rank 0 gets them on CPU (the optimizer's keyed by parameter name), the other ranks None."""
    if not is_sharded(model):
        return model.state_dict(), optimizer.state_dict()
    from torch.distributed.checkpoint.state_dict import (
        StateDictOptions,
        get_model_state_dict,
        get_optimizer_state_dict,
    )

    options = StateDictOptions(full_state_dict=True, cpu_offload=True)
    model_state = get_model_state_dict(model, options=options)
    optim_state = get_optimizer_state_dict(model, optimizer, options=options)
    return (model_state, optim_state) if dist.get_rank() == 0 else None


def load_full_state(model: torch.nn.Module, optimizer: torch.optim.Optimizer | None, model_state: dict,
                    optim_state: dict) -> None:
    """Inverse of `full_state`; every process passes the whole dicts (read from the run directory).
    optimizer None: the model's state only (a stage that starts with a fresh optimizer)."""
    if not is_sharded(model):
        model.load_state_dict(model_state)
        if optimizer is not None:
            optimizer.load_state_dict(optim_state)
        return
    from torch.distributed.checkpoint.state_dict import (
        StateDictOptions,
        set_model_state_dict,
        set_optimizer_state_dict,
    )

    options = StateDictOptions(full_state_dict=True)
    set_model_state_dict(model, model_state, options=options)
    if optimizer is not None:
        set_optimizer_state_dict(model, optimizer, optim_state, options=options)
