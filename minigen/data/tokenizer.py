"""A small byte-level BPE tokenizer (Hugging Face `tokenizers`) trained on pretraining text only.

Why this pre-tokenization: the test of generalization is "a new word made of familiar pieces".
A plain BPE would merge frequent pretraining words into single tokens, so an evaluation word
(never seen) would fall apart into different, rarer pieces than any pretraining word -- the test
would then measure tokenization, not reasoning. Instead, the pre-tokenizer (a regex Split) cuts
  * every known English template word as one whole word (with its leading space), and
  * every other letter run into syllable chunks: HEAD = consonants + vowels ("fe", "glo") and a
    trailing consonant CODA ("mp", "n"); surname suffixes ("ski") are their own chunk;
so BPE can never merge across those boundaries. A nonsense word is then exactly two tokens
(head, coda), and an evaluation word splits into the same kind of pieces as pretraining words --
pieces that all occur in pretraining text. The space before a nonsense word is a token of its own,
so a word is the same two tokens wherever it stands ("glon" at a line start, " glon" after "than"):
with the space attached, the two forms would be unrelated tokens, and a model could only copy a word
from its context after learning to match every head with its spaced twin (the tiny model never
learned to copy at all that way). The cost is one token more per mid-sentence word. The ByteLevel
alphabet and decoder make decoding an exact round trip and leave no unknown token.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tokenizers import Regex, decoders, models, pre_tokenizers, trainers
from tokenizers import Tokenizer as HFTokenizer

from minigen.errors import UserError

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"
_CONS = "b-df-hj-np-tv-zB-DF-HJ-NP-TV-Z"
_VOW = "aeiouAEIOU"


def split_pattern(english_words, suffixes) -> str:
    """The pre-tokenization regex (Oniguruma syntax, as used by `tokenizers`)."""
    words = "|".join(sorted(english_words, key=lambda w: (-len(w), w)))  # longest first, stable
    sfx = "|".join(suffixes)
    return "|".join([
        rf"(?: |(?<![A-Za-z]))(?:{words})(?![A-Za-z])",  # whole English words
        rf"(?<=[A-Za-z])(?:{sfx})(?![A-Za-z])",  # surname suffix ("ski")
        rf"[{_CONS}]+(?=(?:{sfx})(?![A-Za-z]))",  # the coda before a suffix
        rf"[{_CONS}]*[{_VOW}]+",  # HEAD: onset + vowels (never with the space before it)
        rf"[{_CONS}]+",  # CODA: trailing consonants
        r" ?[0-9]+",
        r" ?[^\sA-Za-z0-9]+",  # punctuation
        r"\s",  # each whitespace character on its own (newlines separate lines)
    ])


# Coarse pieces: letter runs (with their leading space), digit runs, punctuation runs, single
# whitespace characters. The split pattern above never cuts across these boundaries, so a text's
# encoding is the concatenation of its coarse pieces' encodings -- which we cache (see `encode`).
_COARSE = re.compile(r" ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s")
_CACHE_LIMIT = 1_000_000


class Tokenizer:
    """Thin wrapper over a Hugging Face tokenizer with the specials minigen needs.

    Encoding goes through a cache from coarse piece (e.g. " glon") to token ids, filled by the
    Hugging Face tokenizer itself, so results are identical to it; the corpus repeats a few
    thousand distinct pieces, which makes encoding a dictionary lookup per word (millions of
    tokens/s on one core, so data never slows training).
    """

    def __init__(self, hf: HFTokenizer):
        self._hf = hf
        self._cache: dict[str, list[int]] = {}
        self.vocab_size: int = hf.get_vocab_size()
        self.pad_id: int = hf.token_to_id(PAD)
        self.bos_id: int = hf.token_to_id(BOS)
        self.eos_id: int = hf.token_to_id(EOS)
        assert None not in (self.pad_id, self.bos_id, self.eos_id)

    def encode(self, text: str) -> list[int]:
        """Token ids of `text`, no BOS/EOS added."""
        cache = self._cache
        ids: list[int] = []
        for piece in _COARSE.findall(text):
            hit = cache.get(piece)
            if hit is None:
                hit = self._hf.encode(piece, add_special_tokens=False).ids
                if len(cache) < _CACHE_LIMIT:
                    cache[piece] = hit
            ids += hit
        return ids

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [self.encode(t) for t in texts]

    def encode_reference(self, text: str) -> list[int]:
        """The Hugging Face tokenizer's own encoding (what `encode` must always equal)."""
        return self._hf.encode(text, add_special_tokens=False).ids

    def decode(self, ids: list[int]) -> str:
        """Exact inverse of `encode` (special tokens are dropped)."""
        return self._hf.decode(list(ids), skip_special_tokens=True)

    def token(self, token_id: int) -> str:
        """The text of one token, for display ("Ġglo" -> " glo")."""
        return self.decode([token_id])

    def save(self, path) -> None:
        self._hf.save(str(path))

    def to_json(self) -> str:
        return self._hf.to_str()

    @classmethod
    def load(cls, path) -> Tokenizer:
        path = Path(path)
        if not path.is_file():
            raise UserError(f"tokenizer file not found: {path}; pass the tokenizer.json of a run directory")
        try:
            return cls(HFTokenizer.from_file(str(path)))
        except Exception as e:  # noqa: BLE001 -- any parse failure is a corrupt file for the user
            raise UserError(f"cannot read tokenizer {path} ({type(e).__name__}); it is not a minigen "
                            "tokenizer.json -- retrain or copy it from the run directory") from None

    @classmethod
    def from_json(cls, text: str) -> Tokenizer:
        return cls(HFTokenizer.from_str(text))


def train_tokenizer(cfg=None, num_documents: int = 15000) -> Tokenizer:
    """Train the BPE on the first `num_documents` documents of the pretraining corpus (seconds).

    Only pretraining text is seen, so evaluation words cannot have their own tokens; the
    pre-tokenizer guarantees that their pieces are pieces of pretraining words. The text is the
    default mixture over cfg's lexicon, whatever cfg's mixture weights: the tokenizer depends on
    the lexicon seed only, so runs that compare corpus mixtures share one tokenization.
    """
    from minigen.data.corpus import CorpusConfig, documents
    from minigen.data.english import NAME_SUFFIXES
    from minigen.data.templates import english_vocabulary

    cfg = CorpusConfig(lexicon_seed=cfg.lexicon_seed if cfg is not None else 0)
    hf = HFTokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(split_pattern(english_vocabulary(), NAME_SUFFIXES)), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    hf.decoder = decoders.ByteLevel()
    # A vocabulary large enough that every pre-token becomes one token; BPE stops by itself when
    # nothing is left to merge, so the real size is what the corpus needs (about a thousand).
    trainer = trainers.BpeTrainer(
        vocab_size=16384, min_frequency=1, special_tokens=[PAD, BOS, EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    stream = documents(cfg)
    hf.train_from_iterator((next(stream) for _ in range(num_documents)), trainer=trainer)
    return Tokenizer(hf)


def describe(tokenizer: Tokenizer) -> dict:
    """Vocabulary facts for logs and reports."""
    vocab = json.loads(tokenizer.to_json())["model"]["vocab"]
    return {"vocab_size": tokenizer.vocab_size, "n_merged": len(vocab) - 256 - 3}
