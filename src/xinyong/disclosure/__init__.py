"""disclosure domain."""
