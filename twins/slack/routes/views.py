"""views.* methods (to be written)."""
