"""Grounding: what ties answer text to its sources.

`markers` parses and strips the [n] citation markers (the one definition of them),
`verify` checks each generated sentence against the passages it cites, and `nli` is the
optional entailment scorer verification can use.
"""
