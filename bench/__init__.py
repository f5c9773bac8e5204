"""Benchmarks: scripts that print figures (never run by pytest). ``python -m bench`` runs them."""
