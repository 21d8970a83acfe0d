"""Operating findsvc as code: SLOs, Prometheus rules, the Grafana dashboard and its demo.

`python -m monitoring` writes the generated files (see `generated.py`); tests compare them.
"""
