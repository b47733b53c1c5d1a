"""The index the trace needs on the EPCIS identifier table.

The EPCIS index is keyed by organization first (MATCH_* queries run inside a tenant); a trace
crosses organizations, so it looks identifiers up by value. The index covers the event key so
each breadth-first level is an index-only scan.
"""

from __future__ import annotations

from sqlalchemy import Index

from truyxuat.epcis.models import EpcisEventEpc

trace_epc_index = Index(
    "ix_epcis_event_epc_trace",
    EpcisEventEpc.epc,
    EpcisEventEpc.role,
    EpcisEventEpc.org_id,
    EpcisEventEpc.event_row_id,
)
