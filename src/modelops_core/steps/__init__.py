"""The built-in pipeline steps, registered by the core's own plugin (``modelops_core.builtin``).

Each module holds one step; a step reads earlier outputs with ``context.latest(key)`` and
returns its own outputs. The keys they exchange:

- ``train`` / ``test``: absolute paths of JSONL files (``dataset``, rewritten by ``sanitize``);
- ``dataset_fingerprint``: the content hash of the data as read;
- ``model_id``, ``provider``, ``base_model``, ``job_id``, ``artifact_path``: from ``finetune``;
- ``metrics``, ``evaluation``, ``report``: from ``evaluate``;
- ``model_name``, ``model_version``: from ``register``.
"""
