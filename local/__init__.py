"""The local runner: API Gateway (JWT authorizer, throttling) and AWS (moto) on a laptop."""
