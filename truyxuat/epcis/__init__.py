"""GS1 EPCIS 2.0 events: model, capture, validation, canonical hash, query."""
