"""Pydantic models: one per documented request and response."""
