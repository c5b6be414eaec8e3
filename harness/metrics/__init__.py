"""Watching a run from outside: the harness's own /metrics, a Prometheus that scrapes it, SLOs through PromQL.

``buckets``   HDR histograms → Prometheus cumulative buckets (pure)
``exporter``  the /metrics endpoint, an observer of the run's event stream
``observe``   Debian's Prometheus for ``--observe``: config and data in the run folder
``promql``    each step's latency percentiles read back through PromQL (``--slo-source prometheus``)
"""
