"""The command line: the console script, click's parsing, and the one error boundary."""
