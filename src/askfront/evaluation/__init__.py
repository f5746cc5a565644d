"""Evaluation: score answers against a test set.

Belongs here: measuring answers, never producing them. `testset` reads the JSONL questions,
`metrics` defines every metric (the one definition, also used by the benchmarks and the
calibration script), `runner` asks and scores the questions and compares runs, `judge` is
the optional LLM judge, and `report` with `plots` writes the HTML page.
"""
