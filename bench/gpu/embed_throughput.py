"""Embedding throughput of all-MiniLM-L6-v2 on a GPU, for issue 16's sizing (docs/cluster.md).

Runs on the GPU machine (PyTorch, transformers and tokenizers are there), over what
bench/gpu/prepare.py and bench/gpu/reference.ts wrote into .gpu: the model's weights (fp16),
config and tokenizer, texts of about 256 tokens (quarry's chunk size), and quarry's own CPU
vectors of the first 256 texts. Reports, as JSON on stdout and in $OUT/gpu-embed.json:
  - agreement: cosine of the GPU's vectors (fp16 and fp32) with quarry's, min and mean;
  - throughput: texts/s at 256 tokens, fp16, by batch size, GPU time alone (token ids already
    on the device) and with tokenization (the tokenizers library, all cores);
  - the same model with PyTorch on the machine's CPU cores, fp32, for scale.
Mean pooling and L2 normalization as quarry does (src/embed/pooling.ts).
"""
import json
import os
import sys
import time

import numpy as np
import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer
from transformers import BertConfig, BertModel

D = sys.argv[1] if len(sys.argv) > 1 else ".gpu"
SEQ = 256
dev = torch.device("cuda")

tok = Tokenizer.from_file(f"{D}/tokenizer.json")
tok.enable_truncation(SEQ)
tok.enable_padding(pad_id=0, pad_token="[PAD]")
texts = [json.loads(l)["text"] for l in open(f"{D}/inputs.jsonl", encoding="utf8") if l.strip()]
ref = np.fromfile(f"{D}/ref.f32", dtype=np.float32).reshape(-1, 384)

cfg = BertConfig.from_json_file(f"{D}/config.json")
state = {k: v for k, v in load_file(f"{D}/model-fp16.safetensors").items() if not k.startswith("pooler.") and k != "embeddings.position_ids"}


def model_in(dtype, device):
    m = BertModel(cfg, add_pooling_layer=False)
    missing, unexpected = m.load_state_dict({k: v.to(torch.float32) for k, v in state.items()}, strict=False)
    assert not unexpected and all("position_ids" in k for k in missing), (missing, unexpected)
    return m.to(device=device, dtype=dtype).eval()


def encode(batch):
    enc = tok.encode_batch(batch)
    ids = torch.tensor([e.ids for e in enc], dtype=torch.long)
    mask = torch.tensor([e.attention_mask for e in enc], dtype=torch.long)
    return ids, mask


@torch.inference_mode()
def embed(m, ids, mask):
    h = m(input_ids=ids, attention_mask=mask).last_hidden_state.float()
    w = mask.unsqueeze(-1).to(h.dtype)
    v = (h * w).sum(1) / w.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(v, dim=-1)


out = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__, "cpuCores": os.cpu_count(), "seqTokens": SEQ, "texts": len(texts)}

# agreement with quarry's CPU vectors
agreement = {}
for name, dtype in (("fp32", torch.float32), ("fp16", torch.float16)):
    m = model_in(dtype, dev)
    ids, mask = encode(texts[: len(ref)])
    v = embed(m, ids.to(dev), mask.to(dev)).cpu().numpy()
    cos = (v * ref).sum(1)
    agreement[name] = {"minCosine": float(cos.min()), "meanCosine": float(cos.mean())}
    del m
out["agreement"] = agreement

# throughput, fp16
m = model_in(torch.float16, dev)
work = (texts * (1 + 32768 // len(texts)))[:32768]
ids_all, mask_all = encode(work)
tokens_per_text = float(mask_all.sum(1).float().mean())
out["meanTokensPerText"] = tokens_per_text
ids_d, mask_d = ids_all.to(dev), mask_all.to(dev)
rows = []
for bs in (64, 256, 1024, 4096):
    n = (len(work) // bs) * bs
    for i in range(0, min(n, 4 * bs), bs):  # warm-up
        embed(m, ids_d[i : i + bs], mask_d[i : i + bs])
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for i in range(0, n, bs):
        embed(m, ids_d[i : i + bs], mask_d[i : i + bs])
    torch.cuda.synchronize()
    gpu_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(0, n, bs):
        a, b = encode(work[i : i + bs])
        embed(m, a.to(dev, non_blocking=True), b.to(dev, non_blocking=True))
    torch.cuda.synchronize()
    e2e_s = time.perf_counter() - t0
    rows.append({"batch": bs, "texts": n, "gpuOnlyPerSecond": n / gpu_s, "withTokenizationPerSecond": n / e2e_s})
    print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
out["fp16"] = rows
out["gpuMemoryPeakGiB"] = torch.cuda.max_memory_allocated() / 2**30
del m

# the same model on the CPU cores (PyTorch fp32), for scale
torch.set_num_threads(os.cpu_count())
mc = model_in(torch.float32, torch.device("cpu"))
a, b = encode(work[:512])
embed(mc, a[:64], b[:64])
t0 = time.perf_counter()
for i in range(0, 512, 64):
    embed(mc, a[i : i + 64], b[i : i + 64])
out["cpuTorchFp32PerSecond"] = 512 / (time.perf_counter() - t0)

print(json.dumps(out, indent=2))
if os.environ.get("OUT"):
    with open(os.path.join(os.environ["OUT"], "gpu-embed.json"), "w") as f:
        json.dump(out, f, indent=2)
