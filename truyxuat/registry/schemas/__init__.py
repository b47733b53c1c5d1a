"""Pydantic shapes of the registry API, one module per kind of master data."""
