"""Scenario-driven recommendations: the request facts, the case run on the ranking core, the service."""
