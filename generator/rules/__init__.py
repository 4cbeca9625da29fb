"""Every check katib-gitops runs: the rule framework, Katib's rules, spec checks, and the validator."""
