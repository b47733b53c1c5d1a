"""Oversight service: dashboard."""
