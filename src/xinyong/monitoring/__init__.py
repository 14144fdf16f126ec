"""Monitoring (监测): statistics the portal shows, kept as aggregates so the pages read one small row."""
