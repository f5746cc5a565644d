"""Retrieval: the passages for a query. `hybrid` fuses dense (Chroma) and keyword (BM25)
search; `stored_vectors` searches the docstore's vector copies when Chroma cannot."""
