"""Why a recommendation cannot be made; ``str(err)`` is always the sentence to show the user."""
from __future__ import annotations

from core.errors import MelographError


class RecommenderError(MelographError):
    """A recommendation cannot be made; ``str(err)`` is the sentence to show the user."""


class NoLikes(RecommenderError):
    """The profile has no liked track, or none of its liked tracks is analysed."""


class NothingToRecommend(RecommenderError):
    """Every analysed track is liked or disliked."""


class NotAnalysed(RecommenderError):
    """No analysis results (window embeddings) in the catalog yet."""


class UnknownProfile(RecommenderError):
    """The catalog has no profile of that name."""


class CorruptProfile(RecommenderError):
    """The saved model file cannot be used; rebuild it from the likes in the catalog."""


class StaleProfile(CorruptProfile):
    """The saved model file was written by another version of the format: retrain it."""
