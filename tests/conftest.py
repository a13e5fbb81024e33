import os

# Tests never talk to W&B and run Triton kernels in the interpreter on the CPU.
os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("TRITON_INTERPRET", "1")
