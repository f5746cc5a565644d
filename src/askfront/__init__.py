"""askfront: answers questions about a folder of articles, every claim cited.

One package per pipeline stage, dependencies pointing one way, towards `core`:
`corpus` (files to Documents) -> `indexing` (chunks, vectors, keyword index) ->
`retrieval` (passages for a query) -> `answering` (a cited Answer or a refusal), with
`grounding` tying answer text to passages. `assistant` is the one module that builds
components from Settings; `cli` (typer) and `web` (gradio) are the two front ends, and
`evaluation` scores answers on a test set. `termtext` makes document text safe to print.
"""

__version__ = "0.1.0"
