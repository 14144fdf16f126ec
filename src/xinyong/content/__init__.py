"""Typical cases (典型案例) and integrity-education articles (诚信教育) written by the credit office."""
