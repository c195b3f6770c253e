"""Configuration: the model registry (models.yaml and its routes), the glossary, and reading YAML safely.

Owns what a user configures and which configured models are on this machine
(catalog.py: `models list` and `models pull`).  Imports engines (for ModelSpec and
the hub) and the language table; loads no model itself.
"""
