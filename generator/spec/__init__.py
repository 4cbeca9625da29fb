"""The spec model: TuningSpecs, Targets, and the cluster's katib-config they are judged against."""
