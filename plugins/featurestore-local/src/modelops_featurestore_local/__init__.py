"""The ``local`` feature store: SQLite (WAL) rows and numpy embeddings under the modelops home."""
