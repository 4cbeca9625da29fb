"""Kustomize in process: building a kustomization, JSON patches, and reading the paths a user names."""
