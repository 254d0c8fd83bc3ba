"""Repositories over DynamoDB and S3. Every key starts with the tenant id (see docs/data-model.md).

Import from the submodules (``reco.stores.catalog`` …): each function loads only the stores it uses.
"""
