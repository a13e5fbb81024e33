# `python -m minigen ...` (and `torchrun -m minigen pretrain ...`) run the CLI.
from minigen.cli import main

main()
