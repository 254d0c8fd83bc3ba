"""Ranking: the mock models now; the numpy ranking core joins them with the data plane."""
