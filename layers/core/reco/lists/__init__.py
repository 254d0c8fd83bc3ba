"""GET /v1/recommendations: personalised lists under contexts, filters, cursors and explanations."""
