"""The kubeflow.org/v1alpha3 -> v1beta1 Experiment migration as a library: Go templates, text edits, conversion."""
