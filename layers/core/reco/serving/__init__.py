"""Serving trained models: the artifact cache, request-time history, scoring and attribute rules."""
