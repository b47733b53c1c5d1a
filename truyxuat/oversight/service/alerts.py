"""Oversight service: alerts."""
