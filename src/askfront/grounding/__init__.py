"""Grounding: what ties answer text to its sources.

Belongs here: citations and their checks, for every backend. `markers` parses and strips
the [n] citation markers (the one definition of them), `verify` checks each generated
sentence against the passages it cites and builds the citations, and `nli` is the optional
entailment scorer verification can use.
"""
