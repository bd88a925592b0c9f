"""The library analysis: the service that feeds files to worker processes, which run the genre model.

This layer joins ``core`` (decoding, features, the catalog) and ``models`` (the network).
"""
