"""minigen: a small-scale transformer testbed for in-context learning vs finetuning generalization."""

__version__ = "0.1.0"
