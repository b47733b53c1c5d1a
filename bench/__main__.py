"""Runs every benchmark: `make bench` (or `python -m bench`)."""

from bench import api_reads, registry_writes

for module in (registry_writes, api_reads):
    module.main()
