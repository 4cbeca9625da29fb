"""Schemas: ours for specs, the built-in ones for manifests, CustomResourceDefinitions, and the fast engine."""
