"""Retrieval: the passages for a query, best first.

Belongs here: reading the index for one question. `base` holds what a search is asked for
(SearchOptions) and returns (SearchResult), `hybrid` fuses dense (Chroma) and keyword
(BM25) search, `stored_vectors` searches the docstore's vector copies when Chroma cannot,
`rerank` is the optional local cross-encoder, and `active` searches whichever build is
active, reloading after a rebuild.
"""
