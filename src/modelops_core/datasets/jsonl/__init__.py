"""JSON Lines: the record reader, and the msgspec fast path of reading and validation (blocks,
lines, structs)."""
