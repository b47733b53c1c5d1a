"""truyxuat: an open product-traceability platform for Vietnam."""

__version__ = "0.1.0"
