"""Core: the typed vocabulary every stage speaks, and nothing that depends on a stage.

`types` (Document, Chunk, Passage, Citation, Answer, ...), `config` (Settings), `errors`
(askfront's exceptions, each with a message a user can act on), `text` (the lexical
tokenizer and sentence splitter), `history` (the one parser of conversation turns).
Dependencies point here, never out of here.
"""
