"""Benchmarks (`make bench`): run.py measures the services, api.py the REST API on gunicorn."""
