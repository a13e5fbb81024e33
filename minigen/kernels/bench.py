"""Attention benchmark: this kernel vs PyTorch SDPA (flash and cuDNN backends) vs eager PyTorch.

    python -m minigen.kernels.bench [--out bench_attention.json] [--seqs 512,1024,...] [--head-dims 64,128]

On CUDA: TFLOP/s of the forward and of forward+backward, bf16, over sequence lengths, head dims and both
masks, with the standard FLOP count (forward 4*B*H*N^2*D, halved when causal; backward 2.5x the forward),
printed as a table with the ratio to SDPA-flash and written as JSON. Tokens per batch (B*N) and the model
width (H*D) are held fixed, as FlashAttention's own benchmark does, so every row does comparable work.

Without CUDA: runs a small correctness check in the Triton interpreter and says that speed needs a GPU.
"""

import argparse
import json
import os
import platform
import subprocess
import sys

import torch

TOKENS = 16384  # batch * seq
WIDTH = 2048  # heads * head_dim


def flops(batch, heads, seq, head_dim, causal, mode):
    forward = 4 * batch * heads * seq * seq * head_dim / (2 if causal else 1)
    return forward if mode == "fwd" else 3.5 * forward  # backward = 2.5x forward


def _implementations(causal):
    """name -> callable(q, k, v), or None where the implementation is unavailable on this machine."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.nn.functional import scaled_dot_product_attention as sdpa

    from minigen.kernels import flash_attention
    from minigen.kernels.reference import attention_reference

    def sdpa_with(backend):
        def run(q, k, v):
            with sdpa_kernel(backend):
                return sdpa(q, k, v, is_causal=causal)
        return run

    return {
        "triton": lambda q, k, v: flash_attention(q, k, v, causal=causal),
        "sdpa_flash": sdpa_with(SDPBackend.FLASH_ATTENTION),
        "sdpa_cudnn": sdpa_with(SDPBackend.CUDNN_ATTENTION),
        "eager": lambda q, k, v: attention_reference(q, k, v, causal=causal),
    }


def _time_ms(fn, q, k, v, d_out, mode):
    """Median milliseconds of one call (mode "fwd") or one forward+backward (mode "fwd_bwd")."""
    from triton.testing import do_bench

    if mode == "fwd":
        with torch.no_grad():
            return do_bench(lambda: fn(q, k, v), warmup=25, rep=100)

    def step():
        fn(q, k, v).backward(d_out)

    return do_bench(step, warmup=25, rep=100, grad_to_none=[q, k, v])


def _bench_shape(impls, names, seq, head_dim, causal, mode, tensors):
    """One table row: TFLOP/s per implementation (None where it is unavailable or runs out of memory)."""
    q = tensors[0]
    batch, heads = q.shape[0], q.shape[1]
    row = dict(seq=seq, head_dim=head_dim, causal=causal, mode=mode, batch=batch, heads=heads)
    for name in names:
        try:
            ms = _time_ms(impls[name], *tensors, mode)
            row[name] = flops(batch, heads, seq, head_dim, causal, mode) / ms / 1e9
        except (RuntimeError, torch.cuda.OutOfMemoryError) as err:  # backend missing here, or OOM
            row[name] = None
            row[f"{name}_error"] = str(err).splitlines()[0][:200]
            torch.cuda.empty_cache()
    flash = row.get("sdpa_flash")
    row["ratio_to_sdpa_flash"] = row["triton"] / flash if row.get("triton") and flash else None
    return row


def _format_row(row, names):
    cells = " ".join(f"{row[n]:11.1f}" if row[n] is not None else f"{'n/a':>11}" for n in names)
    ratio = row["ratio_to_sdpa_flash"]
    return (f"{row['seq']:>6} {row['head_dim']:>4} {str(row['causal']):>6} {row['mode']:>8} {cells}  "
            + (f"{ratio:.2f}x" if ratio else "n/a"))


def bench_gpu(seqs, head_dims, modes, names):
    device = torch.cuda.get_device_name()
    print(f"device: {device}; bf16; batch*seq = {TOKENS}, heads*head_dim = {WIDTH}; TFLOP/s")
    names_header = " ".join(f"{n:>11}" for n in names)
    print(f"{'N':>6} {'D':>4} {'causal':>6} {'mode':>8} {names_header}  vs flash")
    rows = []
    for head_dim in head_dims:
        for causal in (False, True):
            impls = _implementations(causal)
            for seq in seqs:
                shape = (max(1, TOKENS // seq), WIDTH // head_dim, seq, head_dim)
                gen = torch.Generator(device="cuda").manual_seed(0)
                tensors = [torch.randn(shape, device="cuda", dtype=torch.bfloat16, generator=gen)
                           for _ in range(4)]
                for t in tensors[:3]:
                    t.requires_grad_()
                for mode in modes:
                    rows.append(_bench_shape(impls, names, seq, head_dim, causal, mode, tensors))
                    print(_format_row(rows[-1], names), flush=True)
                    if rows[-1].get("triton_error"):
                        print(f"  triton failed: {rows[-1]['triton_error']}", flush=True)
                del tensors
    return {"device": device, "dtype": "bfloat16", "unit": "TFLOP/s", "tokens": TOKENS, "width": WIDTH,
            "torch": torch.__version__, "triton": _triton_version(), "python": platform.python_version(),
            "rows": rows}


def _triton_version():
    import triton

    return triton.__version__


def check_cpu():
    """Small forward+backward vs float64 in the interpreter: a smoke test, not a benchmark."""
    from minigen.kernels import flash_attention
    from minigen.kernels.reference import attention_reference

    print("No CUDA device: speed needs a GPU. Running a small correctness check in the Triton interpreter.")
    gen = torch.Generator().manual_seed(0)
    worst = 0.0
    for causal in (True, False):
        q, k, v, d_out = (torch.randn(1, 2, 77, 32, generator=gen) for _ in range(4))
        results = []
        for fn, dtype in ((flash_attention, torch.float32), (attention_reference, torch.float64)):
            x = [t.to(dtype).requires_grad_() for t in (q, k, v)]
            out = fn(*x, causal=causal)
            results.append([out, *torch.autograd.grad(out, x, d_out.to(dtype))])
        errors = [(a.double() - b).abs().max().item() for a, b in zip(*results, strict=True)]
        worst = max(worst, *errors)
        print(f"  causal={causal}: max |error| out/dq/dk/dv = " + ", ".join(f"{e:.2e}" for e in errors))
    ok = worst < 1e-4
    print("correctness: " + ("OK" if ok else "FAILED"))
    return ok


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="bench_attention.json", help="JSON file for the results (CUDA only)")
    parser.add_argument("--seqs", default="512,1024,2048,4096,8192,16384")
    parser.add_argument("--head-dims", default="64,128")
    parser.add_argument("--modes", default="fwd,fwd_bwd")
    parser.add_argument("--impls", default="triton,sdpa_flash,sdpa_cudnn,eager")
    args = parser.parse_args(argv)

    # Triton picks interpreter or compiler when kernels are defined, i.e. at import: if the switch is wrong
    # for this machine (interpreter on a GPU would be ~1000x slow; compiler without one fails), rerun.
    want = "0" if torch.cuda.is_available() else "1"
    if os.environ.get("TRITON_INTERPRET", "0") != want:
        env = {**os.environ, "TRITON_INTERPRET": want}
        return subprocess.call([sys.executable, "-m", "kernels.bench", *sys.argv[1:]], env=env)
    if not torch.cuda.is_available():
        return 0 if check_cpu() else 1

    result = bench_gpu([int(s) for s in args.seqs.split(",")], [int(d) for d in args.head_dims.split(",")],
                       args.modes.split(","), args.impls.split(","))
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
