"""reco: the domain package shared by every function (the Lambda layer)."""
