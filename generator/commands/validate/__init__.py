"""validate: paths in, findings in the chosen format out."""
