"""modelops-artifacts-s3."""
