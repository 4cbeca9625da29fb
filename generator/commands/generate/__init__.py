"""generate: specs in, an up-to-date output tree out, written all or nothing."""
