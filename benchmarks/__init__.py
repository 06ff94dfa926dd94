"""tensorgraph benchmark suite: ``python -m benchmarks [--quick] [--json PATH]``."""
