"""Loaders for the built-in demo data and the standard benchmark file formats.

One module a kind of data: ``series`` (demo time series shipped by PyPI packages), ``ett`` and ``m4`` (forecasting
benchmarks), ``parallel`` (parallel text for translation), ``audio`` (wav manifests, FSDD, yesno), ``text``
(classification tables and plain corpora). Modules load on import of their own name only.
"""
