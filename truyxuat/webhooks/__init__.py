"""Webhooks: one delivery log for every webhook the node sends (EPCIS subscriptions, recall and
alert notifications), so an integrator can see what was sent, what its server answered, and
have a delivery sent again."""
