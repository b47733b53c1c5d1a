"""The electronic diary (nhật ký điện tử): people record farm activities in a few taps and the
diary writes the matching GS1 EPCIS 2.0 events."""
