"""Code the benchmark scripts share (not itself a benchmark: .ci/run runs benchmarks/*.py only)."""
