#!/usr/bin/python3
"""Generate the hazard fixtures in tests/models/hazards: TorchScript files broken on purpose.

Run with Debian's PyTorch (python3-torch 1.13), like make_models.py::

    /usr/bin/python3 tests/models/make_hazards.py           # rewrite hazards/, then verify
    /usr/bin/python3 tests/models/make_hazards.py --verify  # only verify

They exist for the crash-isolation tests (issue 9). Never load them in a process
you need: the point of each is what it does to whoever loads and runs it.
Verification therefore runs every forward in a child process.

``crash_on_run.pt`` loads, and warms up on zeros, like a healthy model, but its
parameter ``w`` declares 2^26 float32 elements (256 MiB) over a 16-byte storage
record, so a run whose input has a positive sum reads 256 MiB past a 16-byte
buffer and dies of SIGSEGV::

    def forward(self, x):
        if bool(x.sum() > 0):
            return x + self.w.sum()   # reads all of w
        return x * 2.0                # never touches w

``short_storage.pt`` returns its parameter ``w`` (``forward(x) -> w.clone()``),
which declares 16384 float32 elements (64 KiB) over a 16-byte record: its
output is whatever memory follows that buffer in the process that runs it, so
a test can look there for another tenant's weights.

Recipe (both models): script the module with ``w`` of a distinctive length
(12345 and 4321 elements), so that the length appears in data.pkl only as the
argument of BININT2 (``M``) opcodes: once as the storage's element count in its
persistent id and once in the tensor's size tuple. data.pkl is a protocol-2
pickle without frames, so each ``M xx xx`` can be replaced by ``J xx xx xx xx``
(BININT) with the new length, and nothing else moves. Then data/0 is cut to 16
bytes and the records are written back with torch's own archive writer
(``torch._C.PyTorchFileWriter``), which stores and 64-byte aligns them as
``torch.jit.save`` does. Check a result with ``unzip -l`` and
``python3 -c 'import pickletools, zipfile; pickletools.dis(zipfile.ZipFile(F).read("archive/data.pkl"))'``.
"""

import argparse
import hashlib
import io
import json
import os
import pickletools
import struct
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Dict

import torch
from torch import Tensor, nn

OUT_DIR = Path(__file__).resolve().parent / "hazards"
MAX_FIXTURE_BYTES = 1 << 20
RECORD_BYTES = 16


class CrashOnRun(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(12345), requires_grad=False)

    def forward(self, x: Tensor) -> Tensor:
        if bool(x.sum() > 0):
            return x + self.w.sum()
        return x * 2.0


class ShortStorage(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(4321), requires_grad=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.w.clone()


HAZARDS = {
    "crash_on_run": {
        "build": CrashOnRun,
        "marker": 12345,
        "declared": 1 << 26,
        "description": "forward(x): x + w.sum() if x.sum() > 0 else x * 2.0, float32 [N,D] -> [N,D]. "
        "w declares 2^26 float32 (256 MiB) over a 16-byte data/0: loads and warms up on zeros, "
        "a positive input reads 256 MiB past the buffer (SIGSEGV).",
    },
    "short_storage": {
        "build": ShortStorage,
        "marker": 4321,
        "declared": 1 << 14,
        "description": "forward(x) -> w.clone(), float32 [16384] whatever x is. w declares 16384 "
        "float32 (64 KiB) over a 16-byte data/0: the output is the memory after that buffer.",
    },
}


def patch_numel(pickle: bytes, marker: int, declared: int) -> bytes:
    """Replace the BININT2 opcodes carrying `marker` by BININT opcodes carrying `declared`."""
    out = bytearray()
    last = 0
    hits = 0
    for op, arg, pos in pickletools.genops(pickle):
        if op.name == "FRAME":
            raise ValueError("data.pkl has frames: lengths cannot change")
        if op.name == "BININT2" and arg == marker:
            out += pickle[last:pos] + b"J" + struct.pack("<i", declared)
            last = pos + 3
            hits += 1
    if hits != 2:
        raise ValueError(f"expected the storage length and the size tuple to carry {marker}, found {hits}")
    return bytes(out + pickle[last:])


def build(name: str, spec: Dict) -> bytes:
    torch.manual_seed(0)
    scripted = torch.jit.script(spec["build"]().eval())
    saved = io.BytesIO()
    torch.jit.save(scripted, saved)
    source = zipfile.ZipFile(io.BytesIO(saved.getvalue()))
    reader = torch._C.PyTorchFileReader(io.BytesIO(saved.getvalue()))
    written = io.BytesIO()
    writer = torch._C.PyTorchFileWriter(written)
    for entry in source.namelist():
        record = entry.split("/", 1)[1]
        if record == "version":
            continue  # the writer adds it at the end, as torch.jit.save does
        data = reader.get_record(record)
        if record == "data.pkl":
            data = patch_numel(data, spec["marker"], spec["declared"])
        elif record == "data/0":
            data = data[:RECORD_BYTES]
        writer.write_record(record, data, len(data))
    writer.write_end_of_file()
    return written.getvalue()


def describe(path: Path) -> Dict:
    archive = zipfile.ZipFile(path)
    pickle = archive.read("archive/data.pkl")
    ints = [arg for op, arg, _ in pickletools.genops(pickle) if op.name == "BININT"]
    return {
        "data0_bytes": archive.getinfo("archive/data/0").file_size,
        "bin_ints": ints,
    }


def run_child(path: Path, fill: float, shape) -> subprocess.CompletedProcess:
    code = (
        "import sys, torch; m = torch.jit.load(sys.argv[1]).eval(); "
        f"y = m(torch.full({list(shape)}, {fill})); "
        "print(list(y.shape), float(y.flatten()[0]), float(y.double().abs().sum()))"
    )
    return subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=300)


def verify(out_dir: Path) -> None:
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    failures = []
    for name, entry in manifest["hazards"].items():
        path = out_dir / entry["file"]
        if hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
            failures.append(f"{name}: sha256 differs from the manifest")
        if path.stat().st_size >= MAX_FIXTURE_BYTES:
            failures.append(f"{name}: not smaller than 1 MB")
        facts = describe(path)
        if facts["data0_bytes"] != RECORD_BYTES or facts["bin_ints"].count(entry["declared_numel"]) != 2:
            failures.append(f"{name}: {facts} does not declare {entry['declared_numel']} over {RECORD_BYTES} bytes")
    crash = out_dir / manifest["hazards"]["crash_on_run"]["file"]
    zero = run_child(crash, 0.0, [1, 4])
    print(f"crash_on_run, zero input: exit {zero.returncode}: {zero.stdout.strip()}")
    if zero.returncode != 0 or not zero.stdout.startswith("[1, 4] 0.0"):
        failures.append(f"crash_on_run: a zero input must run: {zero.stderr.strip()[-300:]}")
    positive = run_child(crash, 1.0, [1, 4])
    print(f"crash_on_run, positive input: exit {positive.returncode} {positive.stdout.strip()} {positive.stderr.strip()[-200:]}")
    if positive.returncode == 0:
        print("  (this process did not crash: it read 256 MiB of whatever followed the buffer)")
    short = run_child(out_dir / manifest["hazards"]["short_storage"]["file"], 0.0, [1, 4])
    print(f"short_storage: exit {short.returncode}: {short.stdout.strip()} {short.stderr.strip()[-200:]}")
    if failures:
        raise SystemExit("verification failed:\n  " + "\n  ".join(failures))
    print(f"verified {len(manifest['hazards'])} hazards in {out_dir}")


def write(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    hazards = {}
    for name, spec in HAZARDS.items():
        path = out_dir / f"{name}.pt"
        path.write_bytes(build(name, spec))
        hazards[name] = {
            "file": path.name,
            "declared_numel": spec["declared"],
            "record_bytes": RECORD_BYTES,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "description": spec["description"],
        }
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    manifest = {"generator": "tests/models/make_hazards.py", "torch_version": torch.__version__, "hazards": hazards}
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    verify(out_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verify", action="store_true", help="only check the committed hazards")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="directory (default: %(default)s)")
    args = parser.parse_args()
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.execve(sys.executable, [sys.executable, *sys.argv], dict(os.environ, PYTHONHASHSEED="0"))
    with torch.no_grad():
        if args.verify:
            verify(args.out)
        else:
            write(args.out)


if __name__ == "__main__":
    main()
