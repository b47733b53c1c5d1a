"""GS1 Digital Link resolver: linksets, the product passport, scan log and authenticity checks."""
