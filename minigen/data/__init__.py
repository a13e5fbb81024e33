"""The data layer: lexicon, logic engine, templates, pretraining corpus, tokenizer, datasets.

Main entry points: `corpus.CorpusConfig`, `corpus.packed_rows`, `corpus.documents`,
`tokenizer.train_tokenizer`, `tokenizer.Tokenizer`, `datasets.load_dataset`, `logic.Knowledge`.
"""
