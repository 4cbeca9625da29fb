"""`katib-gitops import`: Katib Experiments become TuningSpecs that generate them back, plus their Targets entries."""
