"""Melograph neural networks: architectures, training, evaluation, shipped weights."""
