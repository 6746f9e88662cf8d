"""Drive behaviour: plain functions taking `ctx` and keyword arguments (no HTTP here)."""
