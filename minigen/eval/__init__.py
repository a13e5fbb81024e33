"""Evaluation: multiple-choice scoring (scoring.py), the base / ICL / FT conditions (conditions.py,
contexts.py, trained_facts.py), interval statistics (stats.py), heuristic baselines (heuristics.py),
vocabulary coverage (coverage.py), and what `minigen compare` (minigen/compare.py) uses to report:
options.py, table.py, plot.py."""
