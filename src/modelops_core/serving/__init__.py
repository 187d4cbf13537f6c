"""Serving: ``modelops serve`` answers for registered models by alias.

The ASGI app (Open Inference Protocol v2, OpenAI-compatible chat, ``/metrics``), model loading
through the model flavors, the deterministic traffic split with shadows, the request log, and
A/B experiments on top of both (``experiments/``). See docs/serving.md and docs/experiments.md.
"""
