"""Dense (Chroma) + lexical (BM25 with glossary expansion) + question-card retrieval, fused per
passage group.

A group is an original passage together with its renderings: a hit on the English rendering of
stepping stone 10 and a hit on the Chinese stone itself are evidence for the same passage.
`search` = `signals` (each retriever's candidates) then `rank` (assistant/fusion.py, then the
domain steps: priors, named passages, tiers, official texts first).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.fusion import Fusion, Scores, by_group, interleave, named_first, with_priors
from assistant.query import Query, QueryBuilder
from assistant.references import PartIndex
from assistant.scope import Scope
from ingest import cards
from ingest.catalog import Catalog, disagreements
from ingest.documents import Chunk
from ingest.embedder import Embedder
from ingest.lexical import LexicalIndex, tokenize
from ingest.settings import Settings, Tuning
from ingest.store import Store, StoreError, reading

__all__ = ["Filters", "Hit", "Query", "Retriever"]

log = logging.getLogger(__name__)
_DEFINITION_INTENT = re.compile(
    r"\b(what (is|are|does)\b.{0,60}\b(mean|stand for)|what (is|are) (an? |the )?[\w\s-]{1,40}\?$|"
    r"define|definition|meaning of|stand for|acronym|abbreviation|glossary|term)\b|"
    r"什么意思|是什么|指什么|含义|定义|缩写|术语", re.I)
_PAPER_INTENT = re.compile(r"\b(paper|stepping[- ]stones?|working paper|sponsors?|should)\b|文件|阶石|"
                           r"应当|应该", re.I)


@dataclass
class Filters:
    """Restrict retrieval to some documents, one language, some kinds (empty = no limit)."""

    docs: list[str] = field(default_factory=list)
    lang: str | None = None
    kinds: list[str] = field(default_factory=list)

    def allows(self, chunk: Chunk) -> bool:
        return ((not self.docs or chunk.doc_id in self.docs)
                and (not self.lang or chunk.language == self.lang)
                and (not self.kinds or chunk.doc_kind in self.kinds))

    def where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if self.docs:
            clauses.append({"doc_id": {"$in": list(self.docs)}})
        if self.lang:
            clauses.append({"language": self.lang})
        if self.kinds:
            clauses.append({"doc_kind": {"$in": list(self.kinds)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    @property
    def active(self) -> bool:
        return bool(self.docs or self.lang or self.kinds)


@dataclass
class Hit:
    """One retrieved passage group, best member first."""

    chunk: Chunk  # the passage to cite: the original when allowed, else the best rendering
    score: float  # fused score
    signals: dict[str, float]  # dense cosine, bm25, coverage, ranks…
    members: list[Chunk]  # the original and its renderings (those that are indexed)

    @property
    def counterpart(self) -> Chunk | None:
        """The same passage in the other form: the original of a rendering, or vice versa."""
        if self.chunk.renders:
            return next((m for m in self.members if m.id == self.chunk.renders), None)
        return next((m for m in self.members if m.renders == self.chunk.id), None)


class Retriever:
    """Loads the index once; `search` is cheap and safe to call from many threads."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 reopen: bool = False) -> None:
        """`reopen`: open the store afresh, to see what another process wrote since it was
        first opened here (a reload after an ingest)."""
        self.settings = settings
        self.tuning = settings.tuning
        self.fusion = Fusion.of(settings.tuning)  # chosen once
        self.embedder = embedder or Embedder(settings)
        with reading(settings.chroma_url or settings.chroma_dir):
            self._load(settings, reopen)
        self._glossary_ids = {cid for e in self.lexical.glossary for cid in e.get("chunk", [])}
        # BM25 statistics (IDF, mean length) of the reference corpus alone rank its passages,
        # so adding user documents never reorders the stepping stones among themselves; user
        # passages are ranked by the statistics of the whole index.
        self.reference_lexical = self.lexical if len(self.reference_ids) == len(self.lexical) \
            else self.lexical.subset(self.reference_ids)
        self.lexical.max_idf()  # compile postings now, not on the first question
        self.reference_lexical.max_idf()
        self.queries = QueryBuilder(self.lexical, self.parts, self._bundled_official, self.tuning)
        self.cards = cards.load(settings.cards_path)
        self.embedder.queries(["warm-up"])  # the first encode pays one-off costs

    def close(self) -> None:
        """Release the store connection (after a reload replaced this retriever)."""
        self.store.close()

    # -- loading -----------------------------------------------------------------------------
    def _load(self, settings: Settings, reopen: bool = False) -> None:
        self.store = self._open(settings, reopen)
        self.collection = self.store.collection(create=False)
        if settings.chroma_url:  # a shared server: another host's ingest may be the last one
            from ingest.pipeline import sync_side_files

            sync_side_files(settings, self.store, self.collection)
        self.stamp = self.store.stamp(self.collection)
        self.chunks = self._catalog(self.stamp)
        self.lexical = self._lexical_index(settings, self.stamp)
        for problem in disagreements(len(self.chunks), self.chunks, self.lexical.ids):
            log.warning("index files disagree: %s; `npt-assistant ingest` heals it", problem)
        # The bundled corpus is small: its vectors stay in memory and are scored exactly for
        # every question, so no number of look-alike user documents can push a passage of the
        # reference corpus out of the approximate search's candidates.
        reference = self.chunks.where("origin", "user", equal=False)
        self.groups = self._group(reference)
        self.reference_ids, self.reference_vectors = self.store.vectors(self.collection, reference)
        self._reference_groups = sorted({self.group_of(self.chunks[c]) for c in self.reference_ids})
        # Official texts a user added (the treaty itself, a final document): cited before our
        # notes on the same provision.
        self._local_official = {c for c in self.chunks.where("doc_kind", "official")
                                if self.chunks[c].origin != "bundled"}
        named = [g for g in self._reference_groups if g in self.chunks]
        self.parts = PartIndex(((g, self.chunks[g].locator, self.chunks[g].text)
                                for g in [*named, *sorted(self._local_official)]),
                               official=self._local_official)
        self.scope = Scope((self.chunks[c].text for c in self.reference_ids), self._indexed_name)

    def _open(self, settings: Settings, reopen: bool) -> Store:
        """Return the store, refusing an empty index or one another embedder built."""
        store = Store(settings, reopen=reopen)
        if not store.exists():
            raise StoreError("the index is empty: run `npt-assistant ingest` (or `make ingest`) "
                             "before asking questions")
        built_with = store.embedder_name()
        if built_with not in (self.embedder.fingerprint(), None):
            raise StoreError(f"the index was built with {built_with!r}, settings ask for "
                             f"{self.embedder.fingerprint()!r}: run `npt-assistant ingest --rebuild`")
        return store

    def _catalog(self, stamp: str) -> Catalog:
        """Return every stored passage: from the snapshot beside the index when it is current."""
        catalog = Catalog.current(self.settings.catalog_path, stamp,
                                  self.store.count(self.collection))
        if catalog is not None:
            return catalog
        log.warning("%s is missing or older than the vector store: reading every passage from "
                    "the store instead (slow for a large index; `npt-assistant ingest` writes it)",
                    self.settings.catalog_path)
        return Catalog.from_chunks(self.store.all_chunks(), stamp)

    def _lexical_index(self, settings: Settings, stamp: str) -> LexicalIndex:
        """Return the BM25 index written beside the store; refuse a missing one, warn of an old one."""
        lexical = LexicalIndex.load(settings.lexical_path)
        if self.chunks and not len(lexical):
            raise StoreError(f"the BM25 index {settings.lexical_path} is missing or was written by "
                             "an older version: run `npt-assistant ingest` to rebuild it (from "
                             "the stored passages; nothing is embedded again)")
        if stamp and lexical.stamp != stamp:
            log.warning("the BM25 index %s is older than the vector store (an ingest was "
                        "interrupted?): run `npt-assistant ingest` to bring it up to date",
                        settings.lexical_path)
        return lexical

    def _group(self, reference: list[str]) -> dict[str, list[Chunk]]:
        """Return the passage groups of more than one passage, and those of the reference corpus.

        Groups of more than one passage come from renderings; every other passage is a group
        of its own (see `members`), so 100k user passages cost nothing here."""
        renderings = self.chunks.renderings()
        originals = {self.chunks[r].renders or "" for r in renderings}
        grouped = {*reference, *renderings, *originals} & self.chunks.keys()
        groups: dict[str, list[Chunk]] = {}
        for cid in sorted(grouped):
            chunk = self.chunks[cid]
            groups.setdefault(self.group_of(chunk), []).append(chunk)
        for members in groups.values():
            # the bundled rendering before any a user added for the same passage
            members.sort(key=lambda c: (c.renders is not None, c.origin == "user", c.id))
        return groups

    def _indexed_name(self, name: str) -> bool:
        """True when a one-word name is a term of some indexed passage (user documents too)."""
        terms = tokenize(name)
        return len(terms) == 1 and self.lexical.term_idf(terms[0]) > 0

    def _bundled_official(self, group: str) -> bool:
        chunk = self.chunks.get(group)
        return chunk is not None and chunk.origin == "bundled" and chunk.doc_kind == "official"

    # -- groups and tiers ------------------------------------------------------------------
    def members(self, group: str) -> list[Chunk]:
        """Return a passage group: the original first, then its renderings."""
        if group in self.groups:
            return self.groups[group]
        return [self.chunks[group]] if group in self.chunks else []

    def group_of(self, chunk: Chunk) -> str:
        if chunk.renders and chunk.renders in self.chunks:
            return chunk.renders
        return chunk.id

    def _group_id(self, chunk_id: str) -> str | None:
        chunk = self.chunks.get(chunk_id)
        return None if chunk is None else self.group_of(chunk)

    def _is_user(self, group: str) -> bool:
        chunk = self.chunks.get(group)
        return chunk is not None and chunk.origin == "user"

    # -- query building -------------------------------------------------------------------
    def build_query(self, question: str, context: str | None = None) -> Query:
        """Return the query: the question's terms, glossary equivalents, earlier-turn context."""
        return self.queries.build(question, context)

    # -- signals ---------------------------------------------------------------------------
    def signals(self, query: Query, filters: Filters | None = None,
                n: int | None = None) -> dict[str, Scores]:
        """Return each signal's candidates (chunk id -> score): e5 cosine (`dense`), BM25
        (`bm25`), closest card question (`cards`), BM25 over card words (`cards_bm25`)."""
        return self._signals(query, filters or Filters(), n or self.tuning.candidates)[0]

    def _signals(self, query: Query, filters: Filters, n: int
                 ) -> tuple[dict[str, Scores], dict[str, float]]:
        """Return the signals and how long each took (ms)."""
        t0 = time.perf_counter()
        vector = self.embedder.queries([query.text])[0]
        te = time.perf_counter()
        dense = self._dense(vector, filters, n)
        t1 = time.perf_counter()
        lists = {"dense": dense, "bm25": self._lexical(query, filters, n),
                 **self._cards(query, vector, filters, n)}
        t2 = time.perf_counter()
        return lists, {"embed_ms": (te - t0) * 1000, "dense_ms": (t1 - te) * 1000,
                       "lexical_ms": (t2 - t1) * 1000}

    def _dense(self, vector: np.ndarray, filters: Filters, n: int) -> Scores:
        exact = self.reference_vectors @ vector if len(self.reference_ids) else np.zeros(0)
        reference = {cid: float(score) for cid, score in zip(self.reference_ids, exact, strict=True)
                     if filters.allows(self.chunks[cid])}
        if len(self.reference_ids) == len(self.chunks):
            return reference  # nothing but the reference corpus: no need to ask Chroma
        try:
            return {**dict(self.store.query_collection(self.collection, vector, n,
                                                       filters.where(), len(self.chunks))),
                    **reference}
        except Exception as exc:  # a stopped server, a dropped connection: say so, keep running
            where = self.settings.chroma_url or str(self.settings.chroma_dir)
            raise StoreError(f"the vector store at {where} did not answer ({type(exc).__name__}); "
                             "the next question will try again") from exc

    def _lexical(self, query: Query, filters: Filters, n: int) -> Scores:
        if not query.terms:
            return {}
        out = self._bm25(self.reference_lexical, query, filters, n, users=False)
        if self.reference_lexical is not self.lexical:
            out.update(self._bm25(self.lexical, query, filters, n, users=True))
        return out

    def _bm25(self, index: LexicalIndex, query: Query, filters: Filters, n: int,
              users: bool) -> Scores:
        if not len(index):
            return {}
        scores = index.scores(query.terms)
        m = min(n * 3, len(scores))
        # Only the best few matter: partition first, sort those (not all 100k rows).
        top = np.argpartition(-scores, m - 1)[:m]
        top = top[np.argsort(-scores[top])]
        out: Scores = {}
        for i in top:
            if scores[i] <= 0:
                break  # zero-score rows would only pad the list
            cid = index.ids[i]
            chunk = self.chunks.get(cid)
            if chunk is not None and filters.allows(chunk) and (chunk.origin == "user") == users:
                out[cid] = float(scores[i])
            if len(out) >= n:
                break
        return out

    def _cards(self, query: Query, vector: np.ndarray, filters: Filters, n: int
               ) -> dict[str, Scores]:
        """Return the question-card signals: closest card question, and BM25 over card words."""
        if self.cards is None:
            return {}
        dense = {g: s for g, s in self.cards.best(vector).items()
                 if g in self.chunks and filters.allows(self.chunks[g])}
        lexical: Scores = {}
        if len(self.cards.lexical) and query.terms:
            scores = self.cards.lexical.scores(query.terms)
            for i in np.argsort(-scores)[:n]:
                g = self.cards.lexical.ids[i]
                if scores[i] <= 0:
                    break
                if g in self.chunks and filters.allows(self.chunks[g]):
                    lexical[g] = float(scores[i])
        return {"cards": dense, "cards_bm25": lexical}

    def coverage(self, query: Query, chunk_ids: list[str], with_context: bool = False) -> float:
        """Return the IDF-weighted share of the question's own terms that the texts support.

        A term counts when it appears, or when a glossary equivalent of the name it belongs
        to appears (an English question about 禁试条约 is supported by "CTBT"). With
        `with_context`, a follow-up's terms are judged together with the earlier question's."""
        own = sorted(query.own | query.context) if with_context else sorted(query.own)
        if not own:
            return 0.0
        present: set[str] = set()
        for cid in chunk_ids:  # terms were counted at ingest: no tokenising per question
            present.update(self.lexical.counts(cid) if self.lexical.has(cid)
                           else tokenize(self.chunks[cid].embed_text))
        covered = set(own) & present
        for names_terms, other in query.equivalents:
            if other & present or names_terms & present:
                covered |= names_terms & set(own)
        # Terms no passage contains get the highest IDF: an unknown word is strong evidence
        # that the corpus is not about the question.
        def weight(t: str) -> float:
            # The reference corpus's IDF: the gate was calibrated on it, and a flood of user
            # passages must not change how much a word of the question weighs.
            return self.reference_lexical.term_idf(t) or self.reference_lexical.max_idf()

        total = sum(weight(t) for t in own)
        return sum(weight(t) for t in covered) / total if total else 0.0

    # -- search ------------------------------------------------------------------------------
    def search(self, query: Query, filters: Filters | None = None, k: int | None = None,
               lang: str | None = None) -> tuple[list[Hit], dict[str, float]]:
        """Return the top-k passage groups and per-signal timings (ms)."""
        filters = filters or Filters()
        k = k or self.tuning.top_k
        lists, timings = self._signals(query, filters, max(self.tuning.candidates, k * 3))
        t0 = time.perf_counter()
        hits = self.rank(query, lists, filters, lang)[:k]
        timings["fusion_ms"] = (time.perf_counter() - t0) * 1000
        return hits, timings

    def rank(self, query: Query, lists: Mapping[str, Scores], filters: Filters | None = None,
             lang: str | None = None, fusion: Fusion | None = None) -> list[Hit]:
        """Return every passage group the signals found, best first.

        Fused by this retriever's fusion (or `fusion`: bench/levers.py measures variants so),
        then the priors, the passages the question names, the tiers, official texts."""
        fusion = fusion or self.fusion
        signals = by_group(lists, self._group_id)
        fused, rankings = fusion(signals, list(lists), self._is_user)
        for ranked in rankings:
            for group, place in zip(ranked.groups, ranked.ranks, strict=True):
                signals[group][f"{ranked.name}_rank"] = place
        fused = with_priors(fused, self._priors(query, fused, fusion.tuning))
        named = {g: i for i, g in enumerate(query.references)
                 if g in self.groups or g in self._local_official}
        for group in named:
            signals.setdefault(group, {})["named"] = 1.0
        fused = named_first(fused, named)
        order = self._officials_first(self._tiers(fused, signals, fusion.tuning), fusion.tuning)
        return [self._hit(g, fused[g], signals[g], filters or Filters(), lang) for g in order]

    def _hit(self, group: str, score: float, signals: dict[str, float], filters: Filters,
             lang: str | None) -> Hit:
        members = self.members(group)
        allowed = [m for m in members if filters.allows(m)] or members
        # Show the passage in the asker's language first (a rendering for an English
        # question about the Chinese paper); the other member travels with it.
        shown = next((m for m in allowed if m.language == lang), allowed[0])
        return Hit(chunk=shown, score=score, signals=signals, members=members)

    # -- domain steps after fusion ---------------------------------------------------------------
    def _priors(self, query: Query, fused: Scores, tuning: Tuning) -> Callable[[str], float]:
        """Return each group's prior: primary sources first when the question is about the
        paper, glossary entries only when a definition is asked."""
        # Primary sources first: when the question is about the paper, a note or glossary
        # entry restating a stepping stone should not outrank the stone on equal evidence.
        paper_intent = bool(_PAPER_INTENT.search(query.text))
        definition_intent = bool(_DEFINITION_INTENT.search(query.text))
        # An official text the user added, close to the top, outranks our notes on equal
        # evidence, as the paper does on paper questions.
        near = sorted(fused, key=lambda g: -fused[g])[:tuning.official_window]
        official_intent = bool(self._local_official) and any(g in self._local_official for g in near)
        return lambda g: self._prior(g, paper_intent or official_intent, definition_intent, tuning)

    def _prior(self, group: str, paper_intent: bool, definition_intent: bool,
               tuning: Tuning) -> float:
        chunk = self.chunks.get(group)
        if chunk is None or chunk.doc_kind != "note":
            return 1.0  # user documents are placed by _tiers, not by a prior
        prior = tuning.prior_note if paper_intent else 1.0
        if group in self._glossary_ids and not definition_intent:
            # A glossary entry names a term; it answers "what is X", not every question
            # that happens to use X ("nuclear-weapon States" is in half of them).
            prior *= tuning.prior_glossary
        return prior

    def _tiers(self, fused: Scores, signals: Mapping[str, Scores], tuning: Tuning) -> list[str]:
        """Return the named passages, then the reference corpus's ranking merged with the user
        documents' ranking.

        Each tier keeps its own fused order. At each step the user tier's next passage goes
        first only when its dense similarity beats the reference tier's next passage by
        `user_margin`: a user's papers that restate a stone do not displace the stone, but a
        question only the user's documents answer gets them first."""
        order = sorted(fused, key=lambda g: -fused[g])
        named = [g for g in order if "named" in signals.get(g, {})]
        rest = [g for g in order if "named" not in signals.get(g, {})]
        reference = [g for g in rest if not self._is_user(g)]
        user = [g for g in rest if self._is_user(g)]
        if not user or not reference:
            return named + rest

        def user_first(u: str, r: str) -> bool:
            return signals[u].get("dense", -1.0) > signals[r].get("dense", -1.0) + \
                self._margin(u, r, tuning)

        return named + interleave(reference, user, user_first)

    def _margin(self, user: str, reference: str, tuning: Tuning) -> float:
        """How much closer a user's passage must be to go before the reference passage.

        An official text the user added (the treaty itself) goes before our explanatory note
        on the same provision unless the note is clearly closer; any other user passage must be
        clearly closer than ours."""
        if user in self._local_official and self.chunks[reference].doc_kind == "note":
            return -tuning.user_margin
        return tuning.user_margin

    def _officials_first(self, order: list[str], tuning: Tuning) -> list[str]:
        """Put an official text the user added before our note on the same provision.

        Our note on Article X and the treaty's own Article X both answer "how can a party
        withdraw?"; the treaty is the one to cite, the note goes beside it."""
        if not self._local_official:
            return order
        out = list(order)
        for g in order[:tuning.official_window]:
            if self.chunks.get(g) is None or self.chunks[g].doc_kind != "note":
                continue
            official = next((o for o in out[out.index(g) + 1:] if o in self._local_official
                             and self.parts.same_part(g, o)), None)
            if official is not None:
                out.remove(official)
                out.insert(out.index(g), official)
        return out
