"""Recalls: a lot found unsafe, everything downstream of it, and who must act."""
