"""Loaders for the built-in demo data and the standard benchmark file formats."""
