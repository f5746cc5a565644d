"""Indexing: documents to chunks, vectors and a keyword index, kept in sync with the corpus.

`chunking` packs sentences into chunks sized in word pieces, `embeddings` runs the local
model, `store` lays out the index folder (docstore, Chroma, builds), `bm25` is the keyword
index, `sync` brings the index in line with the corpus and `reconcile` repairs stores an
interrupted sync left disagreeing.
"""
