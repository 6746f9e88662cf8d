"""pins.* methods (to be written)."""
