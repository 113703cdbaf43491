"""Evaluation and benchmarking of recognition: tooling beside the product, built on its services."""
