from katib_gitops.cli.console import entry

entry()
