"""Indexing: documents to chunks, vectors and a keyword index, kept in sync with the corpus.

Belongs here: whatever writes or lays out the index. `chunking` packs sentences into chunks
sized in word pieces, `embeddings` runs the local model, `store` lays out the index folder
(builds and the active one), `docstore` is one build's SQLite table of documents and chunks,
`chroma` opens the vector store, `bm25` is the keyword index (and the search filters both
indexes apply), `sync` brings the index in line with the corpus under `lock` (one writer at
a time), `reconcile` repairs stores an interrupted sync left disagreeing, and `failures`
names what went wrong when a sync fails.
"""
