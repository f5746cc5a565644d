"""Answering: turn a question and retrieved passages into a cited Answer.

`base.Answerer` is the one seam for backends. `extractive` quotes sentences offline (the
default), `llm` writes answers with a chat model and checks them, `local` runs a GGUF model
in process, and `registry` picks a backend by the prefix of the `llm` setting. `followup`
reads follow-up questions without an LLM; `prompt` holds the generative prompts.
"""
