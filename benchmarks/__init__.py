"""On-demand performance benchmarks (`python -m benchmarks.run`); never collected by the test suite."""
