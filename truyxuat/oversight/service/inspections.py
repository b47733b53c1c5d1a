"""Oversight service: inspections."""
