"""Registry: organizations, facilities, growing areas, packing houses, products, certifications."""
