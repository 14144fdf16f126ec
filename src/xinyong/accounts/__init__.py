"""Accounts: departments (the provider registry) now; users, roles and tokens next."""
