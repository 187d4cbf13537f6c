"""modelops-store-sql."""
