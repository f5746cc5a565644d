"""Corpus: files in the corpus folder, read into normalized `Document`s.

Belongs here: anything about files and formats, before indexing. `files` finds and vets
the files (and names uploads safely), `loader` reads one file, with a time limit, through
the reader for its format: `text` (.txt, .md), `html`, `pdf`; `base` is what the readers
share (the parsed result, decoding, the text normalizations).
"""
