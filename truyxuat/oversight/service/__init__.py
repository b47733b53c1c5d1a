"""Oversight services: plain functions taking a session and the acting principal."""
