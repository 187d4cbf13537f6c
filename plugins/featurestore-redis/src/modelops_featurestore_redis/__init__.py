"""The ``redis`` feature store: hashes per entity, history sorted sets, vectors as bytes."""
