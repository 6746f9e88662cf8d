"""apps.manifest.* methods (to be written)."""
