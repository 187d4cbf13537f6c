"""The model registry: ModelRegistry (versions, aliases, lineage, audit, serializers) and version
strings."""
