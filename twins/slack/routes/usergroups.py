"""usergroups.* methods (to be written)."""
