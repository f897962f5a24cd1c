"""Assistant.ask(question, history) -> Answer: the one library API everything else calls."""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time
import unicodedata
from collections.abc import Iterator, Sequence
from typing import Any

from assistant import abstain
from assistant.answer import Answer, Retrieved, abstention, cite, compose
from assistant.conversation import resolve
from assistant.retrieve import Filters, Hit, Retriever
from ingest.language import detect_language
from ingest.settings import Settings, apply_offline_env
from ingest.store import StoreError

log = logging.getLogger(__name__)

__all__ = ["Assistant", "Filters", "clean_question"]

RETIRE_AFTER_S = 30.0  # how long a replaced index stays open for questions begun on it


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
        # Read once per question (`retriever = self.retriever`): a reload replaces the whole
        # object in one assignment, so a question in flight finishes on the index it began on.
        self.retriever = Retriever(self.settings)
        self.load_seconds = time.perf_counter() - started
        self._lock = threading.Lock()  # the embedder is not re-entrant under torch threads
        self._reload_lock = threading.Lock()  # one reload at a time
        self._watching: threading.Event | None = None
        self.synthesizer = None
        if self.settings.llm_url:
            from assistant.llm import Synthesizer

            self.synthesizer = Synthesizer(self.settings)
        log.info("assistant ready in %.1fs (%d chunks)", self.load_seconds,
                 len(self.retriever.chunks))

    def refresh(self) -> bool:
        """Load the index again if an ingest (here or on another host) completed since this one
        was loaded; swap it in atomically. Return True when the answers now come from a new one.

        Nothing changes while an ingest runs (the collection's stamp is cleared until its end),
        and a reload that fails leaves the loaded index answering."""
        with self._reload_lock:
            current = self.retriever
            stamp = current.store.current_stamp()
            if not stamp or stamp == current.stamp:
                return False
            started = time.perf_counter()
            fresh = Retriever(self.settings, embedder=current.embedder, reopen=True)
            self.retriever = fresh
            log.info("index %s loaded in %.2fs (%d passages) after an ingest", fresh.stamp[:8],
                     time.perf_counter() - started, len(fresh.chunks))
            # Questions that began on the old index finish within milliseconds; its store
            # connection is closed well after that.
            timer = threading.Timer(RETIRE_AFTER_S, current.close)
            timer.daemon = True
            timer.start()
            return True

    def watch(self, every: float = 1.0) -> None:
        """Check for a completed ingest every `every` seconds in the background (a server)."""
        if self._watching is not None or every <= 0:
            return
        self._watching = stop = threading.Event()

        def loop() -> None:
            while not stop.wait(every):
                try:
                    self.refresh()
                except Exception as exc:  # an unreachable store, a half-written file: next tick
                    log.warning("could not load the new index (the current one keeps "
                                "answering): %s", exc)

        threading.Thread(target=loop, name="index-watch", daemon=True).start()

    def stop_watching(self) -> None:
        if self._watching is not None:
            self._watching.set()
            self._watching = None

    def describe(self) -> dict[str, Any]:
        """Return what produced the answers (for evaluation reports)."""
        answerer = f"llm:{self.settings.llm_model}" if self.synthesizer else "extractive"
        tuning = self.settings.tuning
        return {**self.settings.describe(), "retriever": f"dense+bm25 {tuning.fusion}",
                "answerer": answerer, "chunks": len(self.retriever.chunks),
                "tuning": tuning.model_dump(mode="json")}

    def ask(self, question: str, history: Sequence[Any] = (), filters: Filters | None = None,
            k: int | None = None) -> Answer:
        """Return the answer to a question, read against the earlier questions of a chat."""
        answer = None
        for item in self.stream(question, history, filters, k):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def stream(self, question: str, history: Sequence[Any] = (), filters: Filters | None = None,
               k: int | None = None) -> Iterator[str | Answer]:
        """Yield text as it is generated (LLM mode only), then the final, checked Answer."""
        retriever = self.retriever
        answer, hits, query = self._extractive(retriever, question, history, filters, k)
        if self.synthesizer is None or answer.abstained or answer.error or not hits:
            yield answer
            return
        from assistant.llm import LLMError, validate

        t0 = time.perf_counter()
        lang = answer.language
        passages = [cite(i, hit, query, lang, retriever) for i, hit in enumerate(hits, 1)]
        raw = ""
        try:
            for delta in self.synthesizer.stream(answer.question, lang, passages):
                raw += delta
                yield raw
            result = validate(raw, len(passages))
        except LLMError as exc:
            log.warning("LLM synthesis failed, answering extractively: %s", exc)
            answer.mode = f"extractive (LLM fallback: {exc})"
            yield answer
            return
        renumber = {old: new for new, old in enumerate(result.used, 1)}
        text = re.sub(r"\[(\d+)\]", lambda m: f"[{renumber[int(m.group(1))]}]", result.text)
        if answer.follow_up_of:
            text = answer.text.split("\n", 1)[0] + "\n" + text
        citations = [dataclasses.replace(passages[old - 1], number=new)
                     for old, new in renumber.items()]
        answer.text, answer.citations, answer.mode = text, citations, "llm"
        answer.timings["llm_ms"] = round((time.perf_counter() - t0) * 1000, 2)
        answer.timings["answer_ms"] = round(answer.timings["answer_ms"] + answer.timings["llm_ms"], 2)
        yield answer

    def _extractive(self, retriever: Retriever, question: str, history: Sequence[Any],
                    filters: Filters | None, k: int | None) -> tuple[Answer, list[Any], Any]:
        """Return the extractive answer with the hits and query it came from."""
        t0 = time.perf_counter()
        try:
            text = clean_question(question, self.settings.max_question_chars)
        except QuestionError as exc:
            return _unusable(question, exc), [], None
        lang = detect_language(text)
        turn = resolve(text, history)
        query = retriever.build_query(text, turn.context)
        try:
            with self._lock:
                hits, timings = retriever.search(query, filters, k, lang)
        except StoreError as exc:
            return _unavailable(text, lang, exc), [], None
        t1 = time.perf_counter()
        decision = abstain.decide(retriever, query, hits, retriever.tuning, text, lang,
                                  unknown=retriever.scope.unknown(text))
        answer = Answer(question=text, text="", language=lang, retrieved=_retrieved(hits),
                        follow_up_of=turn.context, reason=decision.reason)
        if decision.abstain:
            answer.abstained = True
            answer.text, answer.suggestions = abstention(lang, hits, decision.unknown)
        else:
            answer.text, answer.citations = compose(text, lang, hits, query, retriever)
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
        return answer, hits, query


def _retrieved(hits: list[Hit]) -> list[Retrieved]:
    """Return the ranked passages as the UI and the evaluation harness see them."""
    return [Retrieved(rank=i, chunk_id=h.chunk.id, score=round(h.score, 6),
                      doc_title=h.chunk.doc_title, locator=h.chunk.locator, text=h.chunk.text,
                      renders=h.chunk.renders,
                      signals={k: round(float(v), 4) for k, v in h.signals.items()})
            for i, h in enumerate(hits, 1)]


def _unusable(question: Any, exc: QuestionError) -> Answer:
    """Return the answer to a question that cannot be used as typed: what to change."""
    lang = detect_language(question if isinstance(question, str) else "")
    return Answer(question=str(question)[:200], text=str(exc), language=lang, abstained=True,
                  reason="unusable question", error=str(exc))


def _unavailable(text: str, lang: str, exc: StoreError) -> Answer:
    """Return the answer when the index cannot be read: the reason, in the asker's language."""
    message = (f"检索暂时不可用：{exc}" if lang == "zh"
               else f"Retrieval is unavailable right now: {exc}")
    return Answer(question=text, text=message, language=lang, abstained=True,
                  reason="store unavailable", error=message)
