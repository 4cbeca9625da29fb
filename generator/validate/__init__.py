"""The validator: what Katib, Kubernetes and the GitOps tools would reject or silently break."""
