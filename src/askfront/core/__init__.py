"""Core: the typed vocabulary every stage speaks, and nothing that depends on a stage.

Belongs here: a type, setting or rule that two stages share and that needs no stage.
`types` (Document, Chunk, Passage, Citation, Answer, ...), `options` (AskOptions, the one
object of per-question options), `protocols` (AssistantAPI, what the front ends call),
`config` (Settings), `errors` (askfront's exceptions, each with a message a user can act
on), `text` (the lexical tokenizer and sentence splitter), `history` (the one parser of
conversation turns), `question` (cleaning and bounding the question as asked).
Dependencies point here, never out of here.
"""
