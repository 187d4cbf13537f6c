"""JSON Lines: the one reader every JSONL file goes through (``reader``: lines, errors, and the
fast path's decoded runs), the msgspec structs of a plain chat line (``structs``) and the checks
validation runs over a run of them (``fast_checks``)."""
