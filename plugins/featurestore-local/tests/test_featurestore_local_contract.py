"""The ``local`` feature store passes the feature store contract."""

from __future__ import annotations

from modelops_featurestore_local import plugin

from modelops_core.testing import FeatureStoreContract


class TestLocalFeatureStore(FeatureStoreContract):
    plugin = plugin
    component_name = "local"
    distribution = "modelops-featurestore-local"
