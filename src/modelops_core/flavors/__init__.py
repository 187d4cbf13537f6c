"""Model flavors: how a kind of model (scikit-learn, ONNX, the local provider's, numpy, JSON)
is stored, loaded and described. The registry stores through them and the serving layer loads
through the same ones (see docs/models.md and docs/decisions/0005-model-flavors.md).

- :mod:`~modelops_core.flavors.contract`: what a flavor offers, its errors;
- :mod:`~modelops_core.flavors.schema`: input/output schemas taken from a sample;
- :mod:`~modelops_core.flavors.model`: the loaded model (``predict``, ``predict_proba``);
- :mod:`~modelops_core.flavors.builtin`: ``json``, ``bytes``, ``numpy`` (and opt-in ``pickle``);
- :mod:`~modelops_core.flavors.resolve`: which flavor stores a given model.
"""
