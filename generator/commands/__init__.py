"""The commands: generate, validate, migrate, import; each uses the layers below and none another's internals."""
