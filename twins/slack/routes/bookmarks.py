"""bookmarks.* methods (to be written)."""
