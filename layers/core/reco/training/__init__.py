"""Training: a tenant's events → a fitted recipe → a versioned artifact → the registry's current version."""
