"""Registry business rules, one module per kind of master data."""
