"""Enrichment: after a lead arrives, a provider is asked about the person and company (docs/enrichment.md).

`providers.py` holds the providers behind one interface (chosen by ENRICHMENT_PROVIDER);
`ratelimit.py` the per-provider limit on calls; `service.py` the entry points (queue, enrich, record).
"""
