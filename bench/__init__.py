"""Benchmarks: `make bench` (bench/all.py runs each script, see bench/README.md) and the load test
`make bench-load` (bench/load.py)."""
