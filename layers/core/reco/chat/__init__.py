"""The chat endpoint's domain: understanding a shopper's message without an external service."""

from __future__ import annotations

from reco.chat.understanding import CatalogVocabulary, ChatEvent, Constraints, understand

__all__ = ["CatalogVocabulary", "ChatEvent", "Constraints", "understand"]
