"""Uploaded evidence files (证明材料): content-addressed on disk, described in the database."""
