"""Core facts every layer may use: findings, trial kinds, Katib's facts and defaults, files and workers."""
