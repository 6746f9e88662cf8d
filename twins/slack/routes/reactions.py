"""reactions.* methods (to be written)."""
