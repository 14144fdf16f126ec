"""subjects domain."""
