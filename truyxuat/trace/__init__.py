"""Trace graph: one step back and one step forward, repeated, over the captured events."""
