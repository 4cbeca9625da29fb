"""Building from specs: Katib Experiments, Kustomize overlays, and the Argo CD / Flux objects."""
