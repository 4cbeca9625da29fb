"""katib-gitops: declarative Katib tuning specs in, GitOps-ready Experiments out."""

__version__ = "0.1.0"
