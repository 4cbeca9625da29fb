"""`python -m katib_gitops`: the console script's entry; a Ctrl-C while it loads is an interrupt too."""

try:
    from katib_gitops.cli.console import entry
except KeyboardInterrupt:
    import os

    try:
        os.write(2, b"katib-gitops: interrupted\n")
    finally:
        os._exit(130)

entry()
