"""Accounts, tenants, roles, web sessions, API keys and the audit log."""
