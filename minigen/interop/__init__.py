"""Bridges to the tools researchers already use: a Hugging Face `transformers` export of a run
directory (`hf`), from which lm-evaluation-harness, TransformerLens and nnsight open the model, and the
item-by-item check of lm-evaluation-harness against `minigen compare` (`lmeval`). None of these tools
is a dependency of minigen: `pip install -e ".[interop]"`."""
