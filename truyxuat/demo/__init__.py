"""Demo data: the four example supply chains of DOMAIN.md (being built)."""

from sqlalchemy.orm import Session


def load(session: Session, *, if_empty: bool = False) -> str:
    """Loads the demo data and returns a one-line summary."""
    return "demo data: nothing yet"
