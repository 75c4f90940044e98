"""Urn randomization (Wei's covariate-adaptive multi-factor urn) as a session-level service."""
