"""Dense (Chroma) + lexical (BM25 with glossary expansion) retrieval, fused per passage group.

A group is an original passage together with its renderings: a hit on the English rendering of
stepping stone 10 and a hit on the Chinese stone itself are evidence for the same passage.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.references import PartIndex, parts
from assistant.scope import Scope
from ingest import cards
from ingest.catalog import Catalog, disagreements
from ingest.documents import Chunk
from ingest.embedder import Embedder
from ingest.lexical import LexicalIndex, tokenize
from ingest.settings import Settings
from ingest.store import Store, StoreError, reading

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


@dataclass
class Query:
    """What retrieval runs on: the text to embed and weighted lexical terms."""

    text: str
    terms: dict[str, float]
    # The question's own terms, and those an earlier turn lends a follow-up: the gate judges a
    # follow-up by both ("Who should take the lead there?" is about the earlier topic).
    own: set[str] = field(default_factory=set)
    context: set[str] = field(default_factory=set)
    # For each glossary match: the question's own terms it covers, and the terms of every
    # equivalent name (in either language) that would stand in for them in a passage.
    equivalents: list[tuple[set[str], set[str]]] = field(default_factory=list)
    # Passage groups the question names outright ("stepping stone 10", "Article VI").
    references: list[str] = field(default_factory=list)


class Retriever:
    """Loads the index once; `search` is cheap and safe to call from many threads."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 reopen: bool = False) -> None:
        """`reopen`: open the store afresh, to see what another process wrote since it was
        first opened here (a reload after an ingest)."""
        self.settings = settings
        self.embedder = embedder or Embedder(settings)
        with reading(settings.chroma_url or settings.chroma_dir):
            self._load(settings, reopen)
        self._glossary = self._compile_glossary()
        self._glossary_ids = {cid for e in self.lexical.glossary for cid in e.get("chunk", [])}
        # BM25 statistics (IDF, mean length) of the reference corpus alone rank its passages,
        # so adding user documents never reorders the stepping stones among themselves; user
        # passages are ranked by the statistics of the whole index.
        self.reference_lexical = self.lexical if len(self.reference_ids) == len(self.lexical) \
            else self.lexical.subset(self.reference_ids)
        self.lexical.max_idf()  # compile postings now, not on the first question
        self.reference_lexical.max_idf()
        self.cards = cards.load(settings.cards_path)
        self.embedder.queries(["warm-up"])  # the first encode pays one-off costs

    def close(self) -> None:
        """Release the store connection (after a reload replaced this retriever)."""
        self.store.close()

    def _load(self, settings: Settings, reopen: bool = False) -> None:
        self.store = Store(settings, reopen=reopen)
        if not self.store.exists():
            raise StoreError("the index is empty: run `npt-assistant ingest` (or `make ingest`) "
                             "before asking questions")
        built_with = self.store.embedder_name()
        if built_with not in (self.embedder.fingerprint(), None):
            raise StoreError(f"the index was built with {built_with!r}, settings ask for "
                             f"{self.embedder.fingerprint()!r}: run `npt-assistant ingest --rebuild`")
        self.collection = self.store.collection(create=False)
        if settings.chroma_url:  # a shared server: another host's ingest may be the last one
            from ingest.pipeline import sync_side_files

            sync_side_files(settings, self.store, self.collection)
        self.stamp = stamp = self.store.stamp(self.collection)
        self.chunks = self._catalog(stamp)
        self.lexical = LexicalIndex.load(settings.lexical_path)
        if self.chunks and not len(self.lexical):
            raise StoreError(f"the BM25 index {settings.lexical_path} is missing or was written by "
                             "an older version: run `npt-assistant ingest` to rebuild it (from "
                             "the stored passages; nothing is embedded again)")
        if stamp and self.lexical.stamp != stamp:
            log.warning("the BM25 index %s is older than the vector store (an ingest was "
                        "interrupted?): run `npt-assistant ingest` to bring it up to date",
                        settings.lexical_path)
        for problem in disagreements(len(self.chunks), self.chunks, self.lexical.ids):
            log.warning("index files disagree: %s; `npt-assistant ingest` heals it", problem)
        # The bundled corpus is small: its vectors stay in memory and are scored exactly for
        # every question, so no number of look-alike user documents can push a passage of the
        # reference corpus out of the approximate search's candidates.
        self.reference_ids = self.chunks.where("origin", "user", equal=False)
        # Groups of more than one passage come from renderings; every other passage is a group
        # of its own (see `members`), so 100k user passages cost nothing here.
        renderings = self.chunks.renderings()
        originals = {self.chunks[r].renders or "" for r in renderings}
        grouped = {*self.reference_ids, *renderings, *originals} & self.chunks.keys()
        self.groups: dict[str, list[Chunk]] = {}
        for cid in sorted(grouped):
            chunk = self.chunks[cid]
            self.groups.setdefault(self.group_of(chunk), []).append(chunk)
        for members in self.groups.values():
            # the bundled rendering before any a user added for the same passage
            members.sort(key=lambda c: (c.renders is not None, c.origin == "user", c.id))
        got = self.collection.get(ids=self.reference_ids, include=["embeddings"]) \
            if self.reference_ids else {"ids": [], "embeddings": []}
        order = {cid: i for i, cid in enumerate(got["ids"])}
        self.reference_ids = [cid for cid in self.reference_ids if cid in order]
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
        self.reference_vectors = (
            np.array([got["embeddings"][order[c]] for c in self.reference_ids], dtype=np.float32)
            if self.reference_ids else np.zeros((0, 1), dtype=np.float32))  # only user documents

    def _catalog(self, stamp: str) -> Catalog:
        """Return every stored passage: from the snapshot beside the index when it is current."""
        catalog = Catalog.current(self.settings.catalog_path, stamp, self.collection.count())
        if catalog is not None:
            return catalog
        log.warning("%s is missing or older than the vector store: reading every passage from "
                    "the store instead (slow for a large index; `npt-assistant ingest` writes it)",
                    self.settings.catalog_path)
        return Catalog.from_chunks(self.store.all_chunks(), stamp)

    def _indexed_name(self, name: str) -> bool:
        """True when a one-word name is a term of some indexed passage (user documents too)."""
        terms = tokenize(name)
        return len(terms) == 1 and self.lexical.term_idf(terms[0]) > 0

    def members(self, group: str) -> list[Chunk]:
        """Return a passage group: the original first, then its renderings."""
        if group in self.groups:
            return self.groups[group]
        return [self.chunks[group]] if group in self.chunks else []

    def _prior(self, group: str, paper_intent: bool, definition_intent: bool) -> float:
        chunk = self.chunks.get(group)
        if chunk is None:
            return 1.0
        prior = 1.0  # user documents are placed by _interleave, not by a prior
        if chunk.doc_kind == "note":
            prior = self.settings.tuning.prior_note if paper_intent else 1.0
            if group in self._glossary_ids and not definition_intent:
                # A glossary entry names a term; it answers "what is X", not every question
                # that happens to use X ("nuclear-weapon States" is in half of them).
                prior *= self.settings.tuning.prior_glossary
        return prior

    def _interleave(self, fused: dict[str, float], signals: dict[str, dict[str, float]]) -> list[str]:
        """Merge the reference corpus's ranking with the user documents' ranking.

        Each tier keeps its own fused order. At each step the user tier's next passage goes
        first only when its dense similarity beats the reference tier's next passage by
        `user_margin`: a user's papers that restate a stone do not displace the stone, but a
        question only the user's documents answer gets them first."""
        order = sorted(fused, key=lambda g: -fused[g])
        named = [g for g in order if "named" in signals.get(g, {})]
        if named:
            return named + self._interleave({g: v for g, v in fused.items() if g not in named},
                                            signals)
        reference = [g for g in order if not self._is_user(g)]
        user = [g for g in order if self._is_user(g)]
        if not user or not reference:
            return order
        out: list[str] = []
        i = j = 0
        while i < len(reference) or j < len(user):
            take_user = i >= len(reference) or (
                j < len(user) and signals[user[j]].get("dense", -1.0)
                > signals[reference[i]].get("dense", -1.0) + self._margin(user[j], reference[i]))
            if take_user:
                out.append(user[j])
                j += 1
            else:
                out.append(reference[i])
                i += 1
        return out

    def _officials_first(self, order: list[str]) -> list[str]:
        """Put an official text the user added before our note on the same provision.

        Our note on Article X and the treaty's own Article X both answer "how can a party
        withdraw?"; the treaty is the one to cite, the note goes beside it."""
        if not self._local_official:
            return order
        out = list(order)
        for g in order[:self.settings.tuning.official_window]:
            if self.chunks.get(g) is None or self.chunks[g].doc_kind != "note":
                continue
            official = next((o for o in out[out.index(g) + 1:] if o in self._local_official
                             and self.parts.same_part(g, o)), None)
            if official is not None:
                out.remove(official)
                out.insert(out.index(g), official)
        return out

    def _margin(self, user: str, reference: str) -> float:
        """How much closer a user's passage must be to go before the reference passage.

        An official text the user added (the treaty itself) goes before our explanatory note
        on the same provision unless the note is clearly closer; any other user passage must be
        clearly closer than ours."""
        if user in self._local_official and self.chunks[reference].doc_kind == "note":
            return -self.settings.tuning.user_margin
        return self.settings.tuning.user_margin

    def _is_user(self, group: str) -> bool:
        chunk = self.chunks.get(group)
        return chunk is not None and chunk.origin == "user"

    def group_of(self, chunk: Chunk) -> str:
        if chunk.renders and chunk.renders in self.chunks:
            return chunk.renders
        return chunk.id

    def _compile_glossary(self) -> list[tuple[re.Pattern[str], list[str]]]:
        """Each glossary entry: a pattern matching any of its names, and all its names."""
        out = []
        for entry in self.lexical.glossary:
            names = [n for n in entry.get("en", []) + entry.get("zh", []) if len(n) >= 2]
            if not names:
                continue
            alts = sorted((re.escape(n.lower()) for n in names), key=len, reverse=True)
            pattern = re.compile(r"(?<![a-z0-9])(?:" + "|".join(alts) + r")(?![a-z0-9])")
            out.append((pattern, names))
        return out

    # -- query building -------------------------------------------------------------------
    def build_query(self, question: str, context: str | None = None) -> Query:
        """Return the query: the question's terms, glossary equivalents, earlier-turn context."""
        terms: dict[str, float] = {}
        own = tokenize(question)
        for term in own:
            terms[term] = terms.get(term, 0.0) + 1.0
        equivalents: list[tuple[set[str], set[str]]] = []
        low = question.lower()
        for pattern, names in self._glossary:
            match = pattern.search(low)
            if not match:
                continue
            named = set(tokenize(match.group(0)))
            other: set[str] = set()
            for name in names:
                if name.lower() not in low:
                    for term in self.lexical.names.get(name) or tokenize(name):
                        terms.setdefault(term, self.settings.tuning.glossary_term_weight)
                        other.add(term)
            equivalents.append((named, other))
        references = list(dict.fromkeys(g for p in parts(question) for g in self.parts.resolve(p)))
        # The bundled official paper is always named first, before any official text a user
        # added under the same heading (issue #15, item 2: a planted "stepping stone 10").
        references.sort(key=lambda g: not (g in self.chunks and self.chunks[g].origin == "bundled"
                                           and self.chunks[g].doc_kind == "official"))
        text = question
        context_terms: set[str] = set()
        if context:
            for term in tokenize(context):
                terms.setdefault(term, self.settings.tuning.context_term_weight)
                context_terms.add(term)
            text = f"{context} {question}"
        return Query(text=text, terms=terms, equivalents=equivalents, references=references,
                     own=set(own), context=context_terms - set(own))

    # -- signals ---------------------------------------------------------------------------
    def _dense(self, vector: np.ndarray, filters: Filters, n: int) -> dict[str, float]:
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

    def _lexical(self, query: Query, filters: Filters, n: int) -> dict[str, float]:
        if not query.terms:
            return {}
        out = self._bm25(self.reference_lexical, query, filters, n, users=False)
        if self.reference_lexical is not self.lexical:
            out.update(self._bm25(self.lexical, query, filters, n, users=True))
        return out

    def _bm25(self, index: LexicalIndex, query: Query, filters: Filters, n: int,
              users: bool) -> dict[str, float]:
        if not len(index):
            return {}
        scores = index.scores(query.terms)
        m = min(n * 3, len(scores))
        # Only the best few matter: partition first, sort those (not all 100k rows).
        top = np.argpartition(-scores, m - 1)[:m]
        top = top[np.argsort(-scores[top])]
        out: dict[str, float] = {}
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
               ) -> dict[str, dict[str, float]]:
        """Return the question-card signals: closest card question, and BM25 over card words."""
        if self.cards is None:
            return {}
        dense = {g: s for g, s in self.cards.best(vector).items()
                 if g in self.chunks and filters.allows(self.chunks[g])}
        lexical: dict[str, float] = {}
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
        k = k or self.settings.tuning.top_k
        n = max(self.settings.tuning.candidates, k * 3)
        t0 = time.perf_counter()
        vector = self.embedder.queries([query.text])[0]
        te = time.perf_counter()
        dense = self._dense(vector, filters, n)
        t1 = time.perf_counter()
        lexical = self._lexical(query, filters, n)
        lists = {"dense": dense, "bm25": lexical, **self._cards(query, vector, filters, n)}
        t2 = time.perf_counter()
        hits = self.fuse(query, lists, filters, lang)[:k]
        t3 = time.perf_counter()
        timings = {"embed_ms": (te - t0) * 1000, "dense_ms": (t1 - te) * 1000,
                   "lexical_ms": (t2 - t1) * 1000, "fusion_ms": (t3 - t2) * 1000}
        return hits, timings

    def fuse(self, query: Query, lists: dict[str, dict[str, float]], filters: Filters,
             lang: str | None = None) -> list[Hit]:
        """Combine the signals per group (weighted reciprocal-rank or z-score fusion)."""
        signals: dict[str, dict[str, float]] = {}
        for name, scores in lists.items():
            for cid, score in scores.items():
                chunk = self.chunks.get(cid)
                if chunk is None:
                    continue
                entry = signals.setdefault(self.group_of(chunk), {})
                entry[name] = max(entry.get(name, float("-inf")), score)
        fused: dict[str, float] = {}
        fusion = self.settings.tuning.fusion
        weights = self.settings.tuning.signal_weights
        for name in lists:
            if fusion in lists and name != fusion:
                continue
            ranked = sorted((g for g in signals if name in signals[g]),
                            key=lambda g: -signals[g][name])
            values = np.array([signals[g][name] for g in ranked]) if ranked else np.zeros(0)
            mu, sd = (values.mean(), values.std() or 1.0) if len(values) else (0.0, 1.0)
            lo, hi = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
            weight = weights.get(name, 1.0)
            # Ranks count within a tier (the reference corpus; user-added documents), so a
            # thousand user passages that restate a stepping stone do not bury the stone.
            tier_rank = {True: 0, False: 0}
            for g in ranked:
                tier = self._is_user(g)
                tier_rank[tier] += 1
                rank = tier_rank[tier]
                signals[g][f"{name}_rank"] = rank
                if fusion == "zscore":
                    fused[g] = fused.get(g, 0.0) + weight * (signals[g][name] - mu) / sd
                elif fusion in lists:
                    fused[g] = signals[g][name]
                else:
                    # Reciprocal rank, plus a small share of the min-max-normalised score: rank
                    # alone cannot tell a clear lead (BM25 28.8 against 18.5) from a tie (dev
                    # set: hit@1 0.896 -> 0.922, docs/RETRIEVAL.md).
                    share = (signals[g][name] - lo) / ((hi - lo) or 1.0)
                    t = self.settings.tuning
                    fused[g] = fused.get(g, 0.0) + weight * (
                        1.0 / (t.rrf_k + rank) + t.rrf_score_share * share)
        # Primary sources first: when the question is about the paper, a note or glossary
        # entry restating a stepping stone should not outrank the stone on equal evidence.
        paper_intent = bool(_PAPER_INTENT.search(query.text))
        definition_intent = bool(_DEFINITION_INTENT.search(query.text))
        # An official text the user added, close to the top, outranks our notes on equal
        # evidence, as the paper does on paper questions.
        near = sorted(fused, key=lambda g: -fused[g])[:self.settings.tuning.official_window]
        official_intent = bool(self._local_official) and any(g in self._local_official for g in near)
        for g in fused:
            prior = self._prior(g, paper_intent or official_intent, definition_intent)
            if prior != 1.0:
                fused[g] = fused[g] * prior if fused[g] > 0 else fused[g] / prior
        # A passage the question names goes first, in the order named.
        top = max(fused.values(), default=0.0)
        for i, g in enumerate(query.references):
            if g in self.groups or g in self._local_official:
                signals.setdefault(g, {})["named"] = 1.0
                fused[g] = top + 1.0 - i * 1e-3
        hits: list[Hit] = []
        for g in self._officials_first(self._interleave(fused, signals)):
            members = self.members(g)
            allowed = [m for m in members if filters.allows(m)] or members
            # Show the passage in the asker's language first (a rendering for an English
            # question about the Chinese paper); the other member travels with it.
            shown = next((m for m in allowed if m.language == lang), allowed[0])
            hits.append(Hit(chunk=shown, score=fused[g], signals=signals[g], members=members))
        return hits
