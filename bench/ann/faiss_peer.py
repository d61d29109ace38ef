"""FAISS (faiss-cpu from PyPI) as quarry's peer in `npm run bench:ann`.

Reads the split that the TypeScript harness wrote (bench/ann/dataset.ts) by numpy memmap,
builds the FAISS index that matches one configuration, and prints one JSON object (the same
SystemResult shape as the TypeScript runners) as the last line of stdout:

    flat   IndexFlatIP
    ivf    IndexIVFFlat(IndexFlatIP, nlist, METRIC_INNER_PRODUCT)             nprobe
    ivfpq  IndexRefineFlat(IndexIVFPQ(IndexFlatIP, nlist, m, bits, IP))        nprobe, k_factor = refine / k
    hnsw   IndexHNSWFlat(M, IP) (f32) or IndexHNSWSQ(QT_8bit, M, IP) (i8)     efConstruction, efSearch

Builds use every core (OpenMP default); searches run one query at a time on one thread
(faiss.omp_set_num_threads(1)), as quarry's search runs on one JS thread.
Usage: python faiss_peer.py SPLIT_DIR CONFIG_JSON
"""

import gc
import json
import os
import sys
import tempfile
import time

import faiss
import numpy as np


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def settled_rss() -> int:
    gc.collect()
    return rss_bytes()


def describe(p: dict) -> str:
    parts = []
    if "nprobe" in p:
        parts.append(f"nprobe {p['nprobe']}")
    if "refine" in p:
        parts.append(f"refine {p['refine']}")
    if "efSearch" in p:
        parts.append(f"ef {p['efSearch']}")
    return ", ".join(parts) or "exact"


def main() -> None:
    split_dir, cfg = sys.argv[1], json.loads(sys.argv[2])
    info = json.load(open(os.path.join(split_dir, "split.json")))
    d, n_base, n_q, k = info["dims"], info["nBase"], info["nQueries"], info["k"]
    warmup = int(os.environ.get("BENCH_ANN_WARMUP", "100"))
    base = np.array(np.memmap(os.path.join(split_dir, "base.f32"), dtype=np.float32, mode="r", shape=(n_base, d)))
    base_ids = np.fromfile(os.path.join(split_dir, "base_ids.i32"), dtype=np.int32)
    queries = np.fromfile(os.path.join(split_dir, "queries.f32"), dtype=np.float32).reshape(n_q, d)
    gt = np.fromfile(os.path.join(split_dir, "gt.i32"), dtype=np.int32).reshape(n_q, k)
    train_rows = np.fromfile(os.path.join(split_dir, "train_rows.i32"), dtype=np.int32)
    sample = base[train_rows]

    kind, b = cfg["kind"], cfg["build"]
    ip = faiss.METRIC_INNER_PRODUCT
    result = {"system": "faiss", "config": cfg["id"], "available": True, "points": [], "notes": []}
    build_threads = faiss.omp_get_max_threads()

    rss0 = settled_rss()
    t0 = time.perf_counter()
    train_ms = None
    if kind == "flat":
        index = faiss.IndexFlatIP(d)
        built = "IndexFlatIP"
    elif kind == "ivf":
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, b["nlist"], ip)
        built = f"IndexIVFFlat(nlist {b['nlist']}, IP, k-means niter {index.cp.niter})"
    elif kind == "ivfpq":
        ivfpq = faiss.IndexIVFPQ(faiss.IndexFlatIP(d), d, b["nlist"], b["m"], b["bits"], ip)
        index = faiss.IndexRefineFlat(ivfpq)
        built = f"IndexRefineFlat(IndexIVFPQ(nlist {b['nlist']}, m {b['m']}, {b['bits']} bits, IP, k-means niter {ivfpq.cp.niter}, PQ niter {ivfpq.pq.cp.niter}))"
    elif kind == "hnsw":
        if b.get("quantization") == "i8":
            index = faiss.IndexHNSWSQ(d, faiss.ScalarQuantizer.QT_8bit, b["M"], ip)
            built = f"IndexHNSWSQ(QT_8bit, M {b['M']}, efConstruction {b['efConstruction']}, IP)"
        else:
            index = faiss.IndexHNSWFlat(d, b["M"], ip)
            built = f"IndexHNSWFlat(M {b['M']}, efConstruction {b['efConstruction']}, IP)"
        index.hnsw.efConstruction = b["efConstruction"]
    else:
        raise SystemExit(f"unknown kind {kind}")
    if not index.is_trained:
        index.train(sample)
        train_ms = (time.perf_counter() - t0) * 1000
    index.add(base)
    build_ms = (time.perf_counter() - t0) * 1000
    rss_delta = settled_rss() - rss0
    assert index.ntotal == n_base, (index.ntotal, n_base)

    serialized = faiss.serialize_index(index)
    memory = int(serialized.nbytes)
    with tempfile.NamedTemporaryFile(dir=os.environ.get("BENCH_ANN_TMP"), suffix=".faiss") as f:
        faiss.write_index(index, f.name)
        disk = os.path.getsize(f.name)
    del serialized
    if kind == "ivfpq":
        pq_only = int(faiss.serialize_index(faiss.downcast_index(index.base_index)).nbytes)
        result["notes"].append(
            f"memory and disk include the refine store of float32 vectors (IndexRefineFlat); IVF-PQ alone is {pq_only / 2**20:.1f} MiB"
        )
        result["ivfpqOnlyBytes"] = pq_only
    result["notes"].append(f"memoryBytes = serialized index size; builds on {build_threads} threads, searches on 1")

    faiss.omp_set_num_threads(1)
    for p in cfg["points"]:
        if "nprobe" in p:
            faiss.extract_index_ivf(index).nprobe = p["nprobe"]
        if "refine" in p:
            index.k_factor = p["refine"] / k
        if "efSearch" in p:
            index.hnsw.efSearch = p["efSearch"]
        for i in range(min(warmup, n_q)):
            index.search(queries[i : i + 1], k)
        times = np.empty(n_q)
        labels = np.empty((n_q, k), dtype=np.int64)
        for i in range(n_q):
            q = queries[i : i + 1]
            s = time.perf_counter_ns()
            _, ids = index.search(q, k)
            times[i] = (time.perf_counter_ns() - s) / 1e6
            labels[i] = ids[0]
        rows = np.where(labels >= 0, base_ids[np.clip(labels, 0, None)], -1)
        hits = sum(len(set(rows[i].tolist()) & set(gt[i].tolist())) for i in range(n_q))
        srt = np.sort(times)
        pct = lambda q: float(srt[min(n_q - 1, max(0, int(np.ceil(q / 100 * n_q)) - 1))])
        result["points"].append(
            {
                "params": p,
                "label": describe(p),
                "recall": hits / (n_q * k),
                "p50Ms": pct(50),
                "p99Ms": pct(99),
                "meanMs": float(times.mean()),
            }
        )
    result.update(
        built=built,
        buildMs=build_ms,
        trainMs=train_ms,
        memoryBytes=memory,
        rssDeltaBytes=rss_delta,
        diskBytes=disk,
        version=faiss.__version__,
    )
    if train_ms is None:
        del result["trainMs"]
    print()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
