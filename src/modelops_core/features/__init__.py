"""The feature store: FeatureStore, its values and errors, vector operations."""
