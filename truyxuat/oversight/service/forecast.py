"""Oversight service: forecast."""
