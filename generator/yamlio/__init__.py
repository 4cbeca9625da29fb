"""YAML at the edges: reading files as Kubernetes does, with node positions, and one canonical writer."""
