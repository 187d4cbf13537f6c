"""Inference optimization: InferenceOptimizer, its values, the served technique stack, the
benchmark."""
