"""Assistant.ask(question, history) -> Answer: the one library API everything else calls."""

from __future__ import annotations

import logging
import threading
import time
import unicodedata
from collections.abc import Sequence
from typing import Any

from assistant import abstain
from assistant.answer import Answer, Retrieved, abstention, compose, detect_language
from assistant.conversation import resolve
from assistant.retrieve import Filters, Retriever
from ingest.settings import Settings, apply_offline_env

log = logging.getLogger(__name__)

__all__ = ["Assistant", "Filters", "clean_question"]


class QuestionError(ValueError):
    """The question cannot be used as typed; the message tells the user what to change."""


def clean_question(question: Any, limit: int) -> str:
    """Return the question without control characters; raise QuestionError if unusable."""
    if not isinstance(question, str):
        raise QuestionError("The question must be text.")
    if len(question) > limit:
        raise QuestionError(f"The question is {len(question):,} characters long; please keep it "
                            f"under {limit:,} characters (ask about one point at a time).")
    text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in question)
    text = " ".join(text.split())
    if not text:
        raise QuestionError("Please type a question (it was empty).")
    if not any(ch.isalnum() for ch in text):
        raise QuestionError("Please type a question in words; this one has no letters or digits.")
    return text


class Assistant:
    """Loads models and indexes once; answers questions with cited passages."""

    def __init__(self, settings: Settings | None = None) -> None:
        apply_offline_env()
        self.settings = settings or Settings()
        started = time.perf_counter()
        self.retriever = Retriever(self.settings)
        self.load_seconds = time.perf_counter() - started
        self._lock = threading.Lock()  # the embedder is not re-entrant under torch threads
        log.info("assistant ready in %.1fs (%d chunks)", self.load_seconds,
                 len(self.retriever.chunks))

    def describe(self) -> dict[str, Any]:
        """Return what produced the answers (for evaluation reports)."""
        return {**self.settings.describe(), "retriever": f"dense+bm25 {self.settings.fusion}",
                "answerer": "extractive", "chunks": len(self.retriever.chunks)}

    def ask(self, question: str, history: Sequence[Any] = (), filters: Filters | None = None,
            k: int | None = None) -> Answer:
        """Return the answer to a question, read against the earlier questions of a chat."""
        t0 = time.perf_counter()
        try:
            text = clean_question(question, self.settings.max_question_chars)
        except QuestionError as exc:
            lang = detect_language(question if isinstance(question, str) else "")
            return Answer(question=str(question)[:200], text=str(exc), language=lang,
                          abstained=True, reason="unusable question", error=str(exc))
        lang = detect_language(text)
        turn = resolve(text, history)
        query = self.retriever.build_query(text, turn.context)
        with self._lock:
            hits, timings = self.retriever.search(query, filters, k, lang)
        t1 = time.perf_counter()
        s = self.settings
        decision = abstain.decide(self.retriever, query, hits, s.abstain_threshold,
                                  s.abstain_dense_weight, s.abstain_dense_center)
        retrieved = [
            Retrieved(rank=i, chunk_id=h.chunk.id, score=round(h.score, 6),
                      doc_title=h.chunk.doc_title, locator=h.chunk.locator, text=h.chunk.text,
                      renders=h.chunk.renders,
                      signals={k: round(float(v), 4) for k, v in h.signals.items()})
            for i, h in enumerate(hits, 1)
        ]
        answer = Answer(question=text, text="", language=lang, retrieved=retrieved,
                        follow_up_of=turn.context, reason=decision.reason)
        if decision.abstain:
            answer.abstained = True
            answer.text, answer.suggestions = abstention(lang, decision.reason, hits)
        else:
            answer.text, answer.citations = compose(text, lang, hits, query, self.retriever)
        if turn.context:
            note = (f"（按追问理解，承接：“{turn.context}”）" if lang == "zh"
                    else f"(Read as a follow-up to: “{turn.context}”)")
            answer.text = f"{note}\n{answer.text}"
        t2 = time.perf_counter()
        answer.timings = {"retrieve_ms": round((t1 - t0) * 1000, 2),
                          "answer_ms": round((t2 - t1) * 1000, 2),
                          "total_ms": round((t2 - t0) * 1000, 2),
                          **{k: round(v, 2) for k, v in timings.items()},
                          "coverage": round(decision.coverage, 3),
                          "gate_score": round(decision.score, 3)}
        return answer
