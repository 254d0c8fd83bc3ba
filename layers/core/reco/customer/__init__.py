"""POST /api/recommend/recommend: recommendations from customer data, with request and decision logs."""
