"""Oversight: what authorities (and each organization for itself) watch and act on — the
dashboard and monthly report, inspections and violations, early-warning alerts and forecasts."""
