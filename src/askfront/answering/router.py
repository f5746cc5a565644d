"""Which answerer takes a question: the one for its kind (a question about the collection,
an overview), or the configured answerer for fact questions."""

from __future__ import annotations

from collections.abc import Sequence

from askfront.answering.articles import KindAnswerer
from askfront.answering.base import Answerer
from askfront.answering.kinds import Intent, classify
from askfront.core.types import Turn


class KindRouter:
    """Routes questions by kind (askfront.answering.kinds.classify) to `answerers`."""

    def __init__(self, answerers: Sequence[KindAnswerer]) -> None:
        self.by_kind = {a.kind: a for a in answerers}

    def route(
        self, question: str, history: Sequence[Turn], answerer: Answerer
    ) -> tuple[KindAnswerer, Intent] | None:
        """The kind's answerer and the question's intent; None for fact questions, and for
        kinds a generative `answerer` handles itself (a capability of the kind's answerer)."""
        intent = classify(question, history)
        routed = self.by_kind.get(intent.kind)
        if routed is None or (routed.defers_to_generative and answerer.generative):
            return None
        return routed, intent
