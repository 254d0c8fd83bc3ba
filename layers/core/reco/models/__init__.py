"""The recommender core: pure numpy recipes, their registry, and the artifact they ship in."""

from __future__ import annotations

from reco.models.als import ALS
from reco.models.artifact import ItemColumns, ModelArtifact, build_item_columns
from reco.models.base import History, Recommender
from reco.models.bm25 import BM25_FIELDS, BM25Index, build_bm25_index
from reco.models.ease import EASE
from reco.models.interactions import CSR, Interactions
from reco.models.knn import ItemKNN
from reco.models.popularity import Popularity, Trending
from reco.models.recipes import RECIPES, SESSION_RECIPES, fit_recipe, resolve_params
from reco.models.sequential_rules import SequentialRules
from reco.models.session_knn import SessionKNN
from reco.models.text_index import TextIndex, build_text_index, tokenize
from reco.models.topk import top_k

__all__ = [
    "ALS",
    "BM25_FIELDS",
    "CSR",
    "EASE",
    "RECIPES",
    "SESSION_RECIPES",
    "BM25Index",
    "History",
    "Interactions",
    "ItemColumns",
    "ItemKNN",
    "ModelArtifact",
    "Popularity",
    "Recommender",
    "SequentialRules",
    "SessionKNN",
    "TextIndex",
    "Trending",
    "build_bm25_index",
    "build_item_columns",
    "build_text_index",
    "fit_recipe",
    "resolve_params",
    "tokenize",
    "top_k",
]
