"""search.* methods (to be written)."""
