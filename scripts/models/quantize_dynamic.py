#!/usr/bin/env python3
"""Dynamic int8 quantization of a pinned fp32 ONNX export (run in the provisioning venv).

Weights become int8 (per output channel by default); activations are quantized at run time
(MatMulInteger / DynamicQuantizeLinear), so the CPU's int8 dot-product instructions (VNNI on
AVX-512, VPMADDUBSW on AVX2) do the matrix products. Unlike a weights-only int8 file, which
dequantizes to fp32 at load and is slower than fp32, this graph computes in int8.

The output is a pure function of the input bytes, these settings and the pinned onnxruntime
in requirements.txt: same inputs, same sha256 (provision_pypi.py pins it).

    python quantize_dynamic.py --input model.onnx --output model_dynamic_int8.onnx \
        [--no-per-channel] [--weight-type qint8|quint8] [--ops MatMul,Gather] [--optimize]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ left beside the scripts
from provision_pypi import sha256_file  # noqa: E402 (beside this script: its folder is sys.path[0])


def quantize(src: Path, dest: Path, per_channel: bool, weight_type: str, ops: list[str], optimize: bool) -> str:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".quantize-", dir=dest.parent) as tmp:
        model_in = src
        if optimize:
            # onnxruntime's BERT fusions (attention, layer norm, GELU) first: fewer, larger MatMuls to quantize
            from onnxruntime.transformers.optimizer import optimize_model

            opt = optimize_model(str(src), model_type="bert", num_heads=12, hidden_size=384, opt_level=1, use_gpu=False)
            model_in = Path(tmp) / "optimized.onnx"
            opt.save_model_to_file(str(model_in))
        out = Path(tmp) / "quantized.onnx"
        quantize_dynamic(
            model_input=str(model_in),
            model_output=str(out),
            per_channel=per_channel,
            weight_type=QuantType.QInt8 if weight_type == "qint8" else QuantType.QUInt8,
            op_types_to_quantize=ops,
        )
        os.replace(out, dest)
    return sha256_file(dest)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input", required=True, type=Path)
    ap.add_argument("--output", required=True, type=Path)
    ap.add_argument("--no-per-channel", action="store_true")
    ap.add_argument("--weight-type", choices=["qint8", "quint8"], default="qint8")
    ap.add_argument("--ops", default="MatMul", help="comma-separated op types to quantize (default MatMul)")
    ap.add_argument("--optimize", action="store_true", help="apply onnxruntime's BERT fusions first")
    args = ap.parse_args(argv)
    sha = quantize(args.input, args.output, not args.no_per_channel, args.weight_type, args.ops.split(","), args.optimize)
    print(f"{sha}  {args.output}  ({args.output.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
