"""The ``sklearn`` model flavor: scikit-learn estimators stored with skops (or as ONNX)."""

from modelops_flavor_sklearn.flavor import SklearnFlavor

__all__ = ["SklearnFlavor"]
