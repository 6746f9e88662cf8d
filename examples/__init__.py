"""Apps under test that use the official SDKs against the twins."""
