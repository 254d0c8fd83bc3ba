"""Scenarios: named recommendation setups (filters, boosters, diversity) and how they rank items."""
