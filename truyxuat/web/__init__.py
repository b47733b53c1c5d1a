"""Shared web parts: templates, static files, i18n catalogs, problem+json rendering."""
