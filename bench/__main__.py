"""Runs every benchmark: `make bench` (or `python -m bench`)."""

from bench import api_reads, registry_writes

for module in (registry_writes, api_reads):
    module.main()

from bench import stamps_print  # noqa: E402  (appended: benchmarks are added in parallel)

stamps_print.main()

from bench import epcis_capture  # noqa: E402  (appended: benchmarks are added in parallel)

epcis_capture.main()

from bench import stamps_issue  # noqa: E402  (appended: benchmarks are added in parallel)

stamps_issue.main()

from bench import ledger  # noqa: E402  (appended: benchmarks are added in parallel)

ledger.main()

from bench import resolver  # noqa: E402  (appended: benchmarks are added in parallel)

resolver.main()

from bench import trace  # noqa: E402  (appended: benchmarks are added in parallel)

trace.main()

from bench import load_mixed  # noqa: E402  (appended: benchmarks are added in parallel)

load_mixed.main()

from bench import federation  # noqa: E402  (appended: benchmarks are added in parallel)

federation.main()

from bench import forecast  # noqa: E402  (appended: benchmarks are added in parallel)

forecast.main()
