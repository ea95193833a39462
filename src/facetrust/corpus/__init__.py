"""Workbench corpora: committed recipes of public media, built into a cache and verified byte by byte."""

from .build import BuildReport, CorpusError, build_corpus
from .faces import FaceCropSettings, extract_face_crops
from .recipe import KINDS, LABELS, RecipeRow, read_recipe, write_recipe

__all__ = ["KINDS", "LABELS", "BuildReport", "CorpusError", "FaceCropSettings", "RecipeRow", "build_corpus",
           "extract_face_crops", "read_recipe", "write_recipe"]
