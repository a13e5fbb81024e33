"""Evaluation: multiple-choice scoring (scoring.py), the base / ICL / FT conditions (conditions.py,
contexts.py, trained_facts.py), bootstrap statistics (stats.py), and `minigen compare` (compare.py,
options.py, plot.py)."""
