"""The storage contract shared by the model registry and experiment tracking, and the lazily
opened backends of a facade."""
