"""modelops-artifacts-local."""
