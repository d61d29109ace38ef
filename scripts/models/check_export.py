#!/usr/bin/env python3
"""Check an exported BERT ONNX file against an independent numpy forward pass.

The reference below is written separately from export_bert_onnx.py on purpose:
float64, PyTorch weight layout (x @ W.T), softmax over the unmasked keys only
(instead of an additive mask), exact erf from the math module. Agreement with
onnxruntime's fp32 output to ~1e-5 therefore says the graph is right, not just
that two copies of the same bug agree.

Checks, each failing the run (exit 1) when off:
  1. interface: input/output names, dtypes and dims (and, with --int8, the same as that file's);
  2. fp32 ONNX vs numpy reference on a padded batch of varied texts (incl. a
     sentence pair and a text past 128 tokens): max |diff| of last_hidden_state
     on real tokens;
  3. padding invariance: each text alone vs inside the padded batch;
  4. known answers: for the all-MiniLM-L6-v2 weights, the first 6 dims of
     sentence-transformers' (PyTorch fp32) embeddings of 4 texts, to 1e-5;
  5. with --int8: cosine of mean-pooled, normalised embeddings fp32 vs int8.

Usage:
    python check_export.py --onnx model.onnx --weights model.safetensors --config config.json \
        --tokenizer tokenizer.json [--int8 model_quantized.onnx] [--report] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys

import numpy as np

MAX_SEQ = 256  # sentence_bert_config.json max_seq_length
TOL_REFERENCE = 1e-4  # fp32 vs float64 reference, last_hidden_state on real tokens (typically ~2e-6)
TOL_PADDING = 1e-4  # same graph, padded vs unpadded
MIN_COS_INT8 = 0.98  # weight-only int8 vs fp32 pooled embeddings

# Varied on purpose: short/long, punctuation, digits, accents, CJK, code, an empty string.
CHECK_TEXTS = [
    "This is an example sentence",
    "",
    "A man is eating food.",
    "Zürich's café serves crème brûlée at 7:30pm — naïve résumé? 東京",
    "def f(x): return x**2  # squares 12345 and 0.5e-3",
    " ".join(["The quick brown fox jumps over the lazy dog near the riverbank."] * 25),  # > 128 tokens
]
CHECK_PAIR = ("How many people live in Berlin?", "Berlin is well known for its museums.")

# sentence-transformers (PyTorch, fp32) embeddings of all-MiniLM-L6-v2, first 6 dims,
# as pinned in the R package sbert's integration test (tolerance 1e-6 there). Keyed
# by the sha256 of the model.safetensors they belong to.
KNOWN_ANSWERS = {
    "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db": [
        ("This is an example sentence", [0.06765693, 0.06349593, 0.04871314, 0.07930495, 0.03744806, 0.00265273]),
        ("Each sentence is converted.", [0.07853645, 0.08856265, -0.00209270, -0.00717247, -0.01252624, 0.01881747]),
        ("", [-0.11883835, 0.04829856, -0.00254805, -0.01101118, 0.05195070, 0.01029179]),
        ("Café déjà vu — 東京", [0.05083271, 0.00967685, 0.09635572, -0.00997369, -0.01987603, 0.01692343]),
    ]
}
TOL_KNOWN = 1e-5

# ~20 varied sentences for the fp32-vs-int8 agreement report.
REPORT_TEXTS = [
    "This is an example sentence",
    "Each sentence is converted",
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A monkey is playing drums.",
    "How many people live in Berlin?",
    "Berlin had a population of 3,520,031 registered inhabitants in an area of 891.82 square kilometers.",
    "The new movie is awesome",
    "The cat sits outside",
    "Do you like pizza?",
    "Quantum entanglement correlates measurements of separated particles.",
    "SELECT id, name FROM users WHERE created_at > NOW() - INTERVAL '7 days';",
    "Zürich's café serves crème brûlée — naïve résumé.",
    "東京は日本の首都です。",
    "ok",
    "Semantic search ranks documents by the meaning of the query rather than by exact keyword overlap, "
    "which helps when users describe what they want in their own words.",
]


# ---------------------------------------------------------------- tokenizing
def load_tokenizer(path: str):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(path)
    # The Xenova tokenizer.json pads to a fixed 128 and truncates at 128; we pad
    # ourselves and truncate at the sentence-transformers limit instead.
    tok.no_padding()
    tok.enable_truncation(MAX_SEQ)
    return tok


def encode_batch(tok, items: list) -> dict[str, np.ndarray]:
    encs = [tok.encode(*it) if isinstance(it, tuple) else tok.encode(it) for it in items]
    n = max(len(e.ids) for e in encs)
    ids = np.zeros((len(encs), n), np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for r, e in enumerate(encs):
        ids[r, : len(e.ids)] = e.ids
        mask[r, : len(e.ids)] = e.attention_mask
        types[r, : len(e.ids)] = e.type_ids
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


# ------------------------------------------------------- numpy reference BERT
_erf = np.frompyfunc(math.erf, 1, 1)


def _ln(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * gamma + beta


def reference_forward(weights: dict[str, np.ndarray], cfg: dict, feeds: dict[str, np.ndarray]) -> np.ndarray:
    W = {k.removeprefix("bert."): v.astype(np.float64) for k, v in weights.items() if v.dtype == np.float32}
    H, nh, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"]
    d = H // nh
    ids, mask, types = feeds["input_ids"], feeds["attention_mask"], feeds["token_type_ids"]
    B, S = ids.shape

    def lin(x, name):
        return x @ W[name + ".weight"].T + W[name + ".bias"]

    x = W["embeddings.word_embeddings.weight"][ids]
    x = x + W["embeddings.position_embeddings.weight"][np.arange(S)][None]
    x = x + W["embeddings.token_type_embeddings.weight"][types]
    x = _ln(x, W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"], eps)
    keep = mask.astype(bool)[:, None, None, :]  # [B, 1, 1, S] over keys
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        heads = lambda t: t.reshape(B, S, nh, d).transpose(0, 2, 1, 3)  # noqa: E731
        q, k, v = (heads(lin(x, p + f"attention.self.{n}")) for n in ("query", "key", "value"))
        s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d)
        # Masked keys get exactly zero weight (no additive constant).
        s = np.where(keep, s, -np.inf)
        e = np.where(keep, np.exp(s - s.max(-1, keepdims=True)), 0.0)
        ctx = (e / e.sum(-1, keepdims=True)) @ v
        ctx = ctx.transpose(0, 2, 1, 3).reshape(B, S, H)
        x = _ln(lin(ctx, p + "attention.output.dense") + x, W[p + "attention.output.LayerNorm.weight"], W[p + "attention.output.LayerNorm.bias"], eps)
        h = lin(x, p + "intermediate.dense")
        h = 0.5 * h * (1.0 + _erf(h / math.sqrt(2.0)).astype(np.float64))
        x = _ln(lin(h, p + "output.dense") + x, W[p + "output.LayerNorm.weight"], W[p + "output.LayerNorm.bias"], eps)
    return x


# ------------------------------------------------------------------- helpers
def mean_pool_normalize(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m = mask[..., None].astype(np.float64)
    pooled = (hidden.astype(np.float64) * m).sum(1) / np.maximum(m.sum(1), 1e-9)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def session(path: str):
    import onnxruntime as ort

    return ort.InferenceSession(path, providers=["CPUExecutionProvider"])


def describe_io(sess) -> dict:
    io = lambda xs: [(x.name, x.type, list(x.shape)) for x in xs]  # noqa: E731
    return {"inputs": io(sess.get_inputs()), "outputs": io(sess.get_outputs())}


def run(sess, feeds: dict[str, np.ndarray]) -> np.ndarray:
    names = {i.name for i in sess.get_inputs()}
    return sess.run(["last_hidden_state"], {k: v for k, v in feeds.items() if k in names})[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Check an exported BERT ONNX file against a numpy reference.")
    ap.add_argument("--onnx", required=True, help="the exported fp32 model.onnx")
    ap.add_argument("--weights", required=True, help="model.safetensors it was exported from")
    ap.add_argument("--config", required=True, help="config.json of the model")
    ap.add_argument("--tokenizer", required=True, help="tokenizer.json")
    ap.add_argument("--int8", help="an int8 model.onnx of the same model, to compare embeddings with")
    ap.add_argument("--report", action="store_true", help="also print pooled embeddings and fp32-vs-int8 cosines on ~20 texts")
    ap.add_argument("--json", action="store_true", help="print one JSON object with the results at the end")
    args = ap.parse_args(argv)

    from safetensors.numpy import load_file

    with open(args.config, encoding="utf-8") as f:
        cfg = json.load(f)
    weights = load_file(args.weights)
    tok = load_tokenizer(args.tokenizer)
    fp32 = session(args.onnx)
    result: dict = {"ok": True, "failures": []}

    def fail(msg: str) -> None:
        result["ok"] = False
        result["failures"].append(msg)
        print(f"FAIL {msg}", file=sys.stderr)

    # 1. interface
    want = {
        "inputs": [(n, "tensor(int64)", ["batch", "sequence"]) for n in ("input_ids", "attention_mask", "token_type_ids")],
        "outputs": [("last_hidden_state", "tensor(float)", ["batch", "sequence", cfg["hidden_size"]])],
    }
    got = describe_io(fp32)
    if got != want:
        fail(f"interface of {args.onnx} is {got}, expected {want}")
    int8 = None
    if args.int8:
        int8 = session(args.int8)
        if describe_io(int8) != got:
            fail(f"interface differs from {args.int8}: {describe_io(int8)} vs {got}")

    # 2. fp32 ONNX vs reference, on one padded batch
    items = CHECK_TEXTS + [CHECK_PAIR]
    feeds = encode_batch(tok, items)
    out = run(fp32, feeds)
    ref = reference_forward(weights, cfg, feeds)
    diff = float(np.abs(out.astype(np.float64) - ref).max())
    valid = feeds["attention_mask"].astype(bool)
    diff_tokens = float(np.abs(out.astype(np.float64) - ref)[valid].max())
    cos_ref = float((mean_pool_normalize(out, feeds["attention_mask"]) * mean_pool_normalize(ref, feeds["attention_mask"])).sum(1).min())
    result.update(
        texts=len(items),
        batch_shape=list(feeds["input_ids"].shape),
        max_abs_diff=diff,
        max_abs_diff_real_tokens=diff_tokens,
        min_cosine_vs_reference=cos_ref,
        pair_has_type_ids_1=bool(feeds["token_type_ids"].any()),
    )
    print(f"fp32 onnx vs numpy float64 reference: {len(items)} texts, batch {feeds['input_ids'].shape}, "
          f"max |diff| {diff:.3g} (real tokens {diff_tokens:.3g}), min pooled cosine {cos_ref:.9f}")
    # Judged on real tokens; padded positions are never pooled (reported above only).
    if not diff_tokens <= TOL_REFERENCE:
        fail(f"exported graph disagrees with the numpy reference: max |diff| {diff_tokens:.3g} > {TOL_REFERENCE}")

    # 3. padding invariance
    pad_diff = 0.0
    for r, it in enumerate(items):
        single = encode_batch(tok, [it])
        n = single["input_ids"].shape[1]
        pad_diff = max(pad_diff, float(np.abs(run(fp32, single)[0] - out[r, :n]).max()))
    result["max_abs_diff_padding"] = pad_diff
    print(f"padding invariance: max |diff| alone vs padded {pad_diff:.3g}")
    if not pad_diff <= TOL_PADDING:
        fail(f"padding changes real-token outputs by {pad_diff:.3g} > {TOL_PADDING}")

    # 4. known answers from sentence-transformers itself
    known = KNOWN_ANSWERS.get(sha256_file(args.weights))
    if known:
        ka = encode_batch(tok, [t for t, _ in known])
        got_prefix = mean_pool_normalize(run(fp32, ka), ka["attention_mask"])[:, :6]
        ka_diff = float(np.abs(got_prefix - np.array([v for _, v in known])).max())
        result["max_abs_diff_known_answers"] = ka_diff
        print(f"known answers (sentence-transformers fp32, {len(known)} texts x 6 dims): max |diff| {ka_diff:.3g}")
        if not ka_diff <= TOL_KNOWN:
            fail(f"embeddings differ from sentence-transformers' published values by {ka_diff:.3g} > {TOL_KNOWN}")
    else:
        print("known answers: none for these weights (not all-MiniLM-L6-v2), skipped")

    # 5. int8 agreement (and the report numbers)
    if int8 is not None or args.report:
        rep = encode_batch(tok, REPORT_TEXTS)
        e32 = mean_pool_normalize(run(fp32, rep), rep["attention_mask"])
        result["example_fp32_first3"] = [round(float(v), 6) for v in e32[0, :3]]
        print(f"fp32 '{REPORT_TEXTS[0]}' -> {result['example_fp32_first3']} (published, Xenova int8: [0.045927, 0.073282, 0.054007])")
        if int8 is not None:
            e8 = mean_pool_normalize(run(int8, rep), rep["attention_mask"])
            cos = (e32 * e8).sum(1)
            result["example_int8_first3"] = [round(float(v), 6) for v in e8[0, :3]]
            result["int8_cosine_mean"] = float(cos.mean())
            result["int8_cosine_min"] = float(cos.min())
            print(f"int8 '{REPORT_TEXTS[0]}' -> {result['example_int8_first3']}")
            print(f"fp32 vs int8 pooled cosine over {len(REPORT_TEXTS)} texts: mean {cos.mean():.6f}, min {cos.min():.6f} "
                  f"({REPORT_TEXTS[int(cos.argmin())][:40]!r})")
            if not cos.min() >= MIN_COS_INT8:
                fail(f"int8 and fp32 embeddings disagree: min cosine {cos.min():.4f} < {MIN_COS_INT8}")

    if args.json:
        print(json.dumps(result))
    print("check passed" if result["ok"] else "check FAILED")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
