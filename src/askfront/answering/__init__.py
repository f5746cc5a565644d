"""Answering: turn a question and retrieved passages into a cited Answer, or a refusal.

Belongs here: deciding what to say from passages already found. `base.Answerer` is the one
seam for backends (capability attributes such as `generative` say what each one can do).
`extractive/` quotes sentences offline (the default), `llm` writes answers with a chat model
and checks them, `local` runs a GGUF model in process, and `registry` picks a backend by the
prefix of the `llm` setting; `prompt` holds the generative prompts. `followup` reads
follow-up questions without an LLM. Question kinds: `kinds` classifies a question (a fact,
the collection, an overview) with `dates` for the dates in it, `router` sends it to the
answerer for its kind, `collection` and `overview` are those answerers, and `articles`
finds the articles a topic is about for them.
"""
