#!/usr/bin/python3
"""Generate the TorchScript fixtures used by the AccelBroker tests and benchmarks.

Run with Debian's PyTorch (python3-torch 1.13, python3-torchvision 0.14); the
``python3`` first on PATH may be a different interpreter without torch::

    /usr/bin/python3 tests/models/make_models.py              # small fixtures
    /usr/bin/python3 tests/models/make_models.py --verify     # re-check them
    /usr/bin/python3 tests/models/make_models.py --large DIR  # benchmark models

Default mode writes the small, committed fixtures next to this script (each
file < 1 MB): one ``<name>.pt`` per model, one ``<name>.inputN.npy`` per forward
argument, one ``<name>.outputN.npy`` per output (per element for tuple and
list outputs, in order) and ``manifest.json`` describing all of them. Weights
are random (no network, so no pretrained weights) and come from a fixed
``torch.manual_seed``; example inputs come from a seeded numpy generator.
Expected outputs are produced by the saved ``.pt`` file after loading it back
with ``torch.jit.load``, under ``torch.no_grad()``, in eval mode, on one CPU
thread. After writing, every fixture is reloaded from disk and its outputs
are compared bit for bit with the ``.npy`` files (``--verify`` repeats only
that check).

``--large DIR`` writes the benchmark models (never committed; the default
location ``<repo>/.models`` is git-ignored) together with ``DIR/manifest.json``
in the same format, without example or expected-output files (their ``file``
is ``null``). Models that already exist in DIR are skipped unless ``--force``.

Determinism: running the script twice gives byte-identical ``.npy`` files and,
with the same torch build and checkout path, byte-identical ``.pt`` files and
manifest. The ``.pt`` zip entries carry a fixed 1980 timestamp, and the script
re-executes itself with ``PYTHONHASHSEED=0`` because TorchScript emits a
module's ``__constants__`` in set order, which otherwise changes from run to
run. ``torch.jit.save`` also stores debug source ranges (``*.debug_pkl``) that
embed the absolute path of this script for the modules it defines, so a
checkout at another path, or another torch build, gives different ``.pt``
bytes (and ``sha256`` values in the manifest) while the weights and the
expected outputs stay identical.
Expected outputs are float results of one CPU build; consumers running other
libtorch versions (e.g. TorchSharp) should compare them with a tolerance.
"""

import argparse
import hashlib
import io
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor, nn

SEED = 20240601
MAX_FIXTURE_BYTES = 1 << 20
SCRIPT_DIR = Path(__file__).resolve().parent


# --------------------------------------------------------------------------
# Small fixture modules
# --------------------------------------------------------------------------


class ControlFlow(nn.Module):
    """Data-dependent branch plus a loop: only scripting preserves both."""

    def __init__(self) -> None:
        super().__init__()
        self.linear_a = nn.Linear(8, 8)
        self.linear_b = nn.Linear(8, 8)

    def forward(self, x: Tensor) -> Tensor:
        if bool(x.sum() > 0):
            y = self.linear_a(x)
        else:
            y = self.linear_b(x)
        for _ in range(3):
            y = torch.relu(y) * 0.5 + y
        return y


class TwoInTupleOut(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(8, 8)

    def forward(self, a: Tensor, b: Tensor) -> Tuple[Tensor, Tensor]:
        return self.linear(a) + b, a * b


class TokenClassifier(nn.Module):
    """int64 token ids [N, L] -> logits [N, 4] through a 1-layer transformer."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(1000, 32)
        layer = nn.TransformerEncoderLayer(
            d_model=32, nhead=4, dim_feedforward=64, dropout=0.0, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers=1, enable_nested_tensor=False)
        self.head = nn.Linear(32, 4)

    def forward(self, ids: Tensor) -> Tensor:
        hidden = self.encoder(self.embedding(ids))
        return self.head(hidden.mean(dim=1))


class Identity(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return x.clone()


class Aliasing(nn.Module):
    """Outputs that share memory: the input itself, strided and transposed views of it, one tensor twice."""

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        y = x * 2
        return x, x[:, ::2], x.t(), y, y


class ListOut(nn.Module):
    def forward(self, x: Tensor) -> List[Tensor]:
        return [x + 1, x * 2, x.sum(dim=-1)]


# --------------------------------------------------------------------------
# Large benchmark modules
# --------------------------------------------------------------------------


class BertBaseEncoder(nn.Module):
    """BERT-base-shaped encoder: int64 ids [B, L<=512] -> hidden states [B, L, 768]."""

    def __init__(self) -> None:
        super().__init__()
        self.token_embedding = nn.Embedding(30522, 768)
        self.position_embedding = nn.Embedding(512, 768)
        self.embedding_norm = nn.LayerNorm(768, eps=1e-12)
        layer = nn.TransformerEncoderLayer(
            d_model=768,
            nhead=12,
            dim_feedforward=3072,
            dropout=0.0,
            activation="gelu",
            layer_norm_eps=1e-12,
            batch_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers=12, enable_nested_tensor=False)

    def forward(self, ids: Tensor) -> Tensor:
        positions = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0)
        hidden = self.token_embedding(ids) + self.position_embedding(positions)
        return self.encoder(self.embedding_norm(hidden))


def resnet(name: str) -> nn.Module:
    import torchvision  # only the large models need it

    return getattr(torchvision.models, name)(weights=None)


def mlp_100mb() -> nn.Module:
    # 5000*2048 + 2048*2048 + 2048*5000 weights + biases = 24.7M float32 ~ 98.7 MB.
    return nn.Sequential(
        nn.Linear(5000, 2048),
        nn.ReLU(),
        nn.Linear(2048, 2048),
        nn.ReLU(),
        nn.Linear(2048, 5000),
    )


# --------------------------------------------------------------------------
# Fixture table
# --------------------------------------------------------------------------


@dataclass
class InputSpec:
    dtype: str  # numpy / torch dtype name
    shape: Sequence[int]
    high: int = 0  # exclusive upper bound for integer inputs


@dataclass
class ModelSpec:
    name: str
    build: Callable[[], nn.Module]
    scripted: bool
    inputs: List[InputSpec]
    output_kind: str  # "tensor" | "tuple" | "list"
    description: str
    file: str = ""  # defaults to <name>.pt
    example_sign: int = 0  # +1 / -1: flip the example input so that its sum has this sign
    output_shapes: List[Sequence[int]] = field(default_factory=list)  # large models only

    @property
    def pt_file(self) -> str:
        return self.file or f"{self.name}.pt"


SMALL_MODELS: List[ModelSpec] = [
    ModelSpec(
        name="demo_mlp",
        build=lambda: nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 8)),
        scripted=False,
        inputs=[InputSpec("float32", [1, 16])],
        output_kind="tensor",
        description="Traced MLP Linear(16,64)-ReLU-Linear(64,8): float32 [1,16] -> [1,8]. "
        "Tiny benchmark model and the `accel demo` model.",
    ),
    ModelSpec(
        name="control_flow",
        build=ControlFlow,
        scripted=True,
        inputs=[InputSpec("float32", [3, 8])],
        output_kind="tensor",
        example_sign=1,
        description="Scripted data-dependent control flow: linear_a(x) if x.sum() > 0 else "
        "linear_b(x), then 3x y = relu(y)*0.5 + y. float32 [N,8] -> [N,8]. "
        "The example input has a positive sum (linear_a branch).",
    ),
    ModelSpec(
        name="control_flow_neg",
        file="control_flow.pt",
        build=ControlFlow,
        scripted=True,
        inputs=[InputSpec("float32", [3, 8])],
        output_kind="tensor",
        example_sign=-1,
        description="Same model file as control_flow; the example input is the negated "
        "control_flow input (negative sum, linear_b branch).",
    ),
    ModelSpec(
        name="two_in_tuple_out",
        build=TwoInTupleOut,
        scripted=True,
        inputs=[InputSpec("float32", [2, 8]), InputSpec("float32", [2, 8])],
        output_kind="tuple",
        description="Scripted forward(a, b) -> (linear(a) + b, a * b); a, b float32 [N,8].",
    ),
    ModelSpec(
        name="token_ids",
        build=TokenClassifier,
        scripted=False,
        inputs=[InputSpec("int64", [2, 12], high=1000)],
        output_kind="tensor",
        description="Traced Embedding(1000,32) -> 1-layer TransformerEncoder(d_model=32, "
        "nhead=4, ff=64) -> mean over L -> Linear(32,4): int64 ids [N,L] in [0,1000) -> "
        "float32 [N,4]. Works for any N and L (checked at generation time).",
    ),
    ModelSpec(
        name="identity",
        build=Identity,
        scripted=True,
        inputs=[InputSpec("float32", [4, 8])],
        output_kind="tensor",
        description="Scripted forward(x) -> x.clone(): round-trips any dtype and shape.",
    ),
    ModelSpec(
        name="aliasing",
        build=Aliasing,
        scripted=True,
        inputs=[InputSpec("float32", [4, 8])],
        output_kind="tuple",
        description="Scripted forward(x) -> (x, x[:, ::2], x.t(), y, y) with y = x * 2: an output that is "
        "the input, non-contiguous views of it, and one tensor returned twice.",
    ),
    ModelSpec(
        name="list_out",
        build=ListOut,
        scripted=True,
        inputs=[InputSpec("float32", [2, 8])],
        output_kind="list",
        description="Scripted forward(x) -> [x + 1, x * 2, x.sum(dim=-1)]; x float32 [N,D].",
    ),
]

LARGE_MODELS: List[ModelSpec] = [
    ModelSpec(
        name="resnet18",
        build=lambda: resnet("resnet18"),
        scripted=False,
        inputs=[InputSpec("float32", [1, 3, 224, 224])],
        output_kind="tensor",
        output_shapes=[[1, 1000]],
        description="torchvision resnet18, random weights, traced with float32 [1,3,224,224].",
    ),
    ModelSpec(
        name="resnet50",
        build=lambda: resnet("resnet50"),
        scripted=False,
        inputs=[InputSpec("float32", [1, 3, 224, 224])],
        output_kind="tensor",
        output_shapes=[[1, 1000]],
        description="torchvision resnet50, random weights, traced with float32 [1,3,224,224].",
    ),
    ModelSpec(
        name="bert_base_encoder",
        build=BertBaseEncoder,
        scripted=False,
        inputs=[InputSpec("int64", [1, 128], high=30522)],
        output_kind="tensor",
        output_shapes=[[1, 128, 768]],
        description="BERT-base-shaped encoder (Embedding(30522,768) + learned positions "
        "(512,768) + LayerNorm + 12-layer TransformerEncoder d_model=768 nhead=12 ff=3072 "
        "gelu), random weights, traced with int64 ids [1,128] -> float32 [1,128,768]; "
        "other batch sizes work.",
    ),
    ModelSpec(
        name="mlp_100mb",
        build=mlp_100mb,
        scripted=False,
        inputs=[InputSpec("float32", [1, 5000])],
        output_kind="tensor",
        output_shapes=[[1, 5000]],
        description="MLP Linear(5000,2048)-ReLU-Linear(2048,2048)-ReLU-Linear(2048,5000), "
        "~98.7 MB of float32 weights: float32 [1,5000] -> [1,5000].",
    ),
]


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


def make_inputs(spec: ModelSpec, seed: int) -> List[Tensor]:
    """Example inputs from a numpy generator seeded per model name."""
    rng = np.random.default_rng(seed)
    arrays = []
    for item in spec.inputs:
        if item.dtype == "float32":
            array = rng.standard_normal(item.shape, dtype=np.float32)
        elif item.dtype == "int64":
            array = rng.integers(0, item.high, size=item.shape, dtype=np.int64)
        else:
            raise ValueError(f"unsupported example dtype {item.dtype}")
        arrays.append(torch.from_numpy(array))
    return arrays


def flatten_outputs(result: object, kind: str) -> List[Tensor]:
    if kind == "tensor":
        if not isinstance(result, Tensor):
            raise TypeError(f"expected a tensor, got {type(result).__name__}")
        return [result]
    expected_type = tuple if kind == "tuple" else list
    if not isinstance(result, expected_type) or not all(isinstance(t, Tensor) for t in result):
        raise TypeError(f"expected a {kind} of tensors, got {type(result).__name__}")
    return list(result)


def build_module(spec: ModelSpec, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return spec.build().eval()


def compile_module(spec: ModelSpec, module: nn.Module, example: Sequence[Tensor]) -> torch.jit.ScriptModule:
    if spec.scripted:
        return torch.jit.script(module)
    return torch.jit.trace(module, tuple(example))


def save_module(compiled: torch.jit.ScriptModule, path: Path) -> None:
    # Saving through a buffer keeps the archive's internal folder name fixed
    # ("archive/...") whatever the file is called.
    buffer = io.BytesIO()
    torch.jit.save(compiled, buffer)
    path.write_bytes(buffer.getvalue())


def tensor_entry(file: str | None, tensor: Tensor) -> dict:
    return {"file": file, "dtype": dtype_name(tensor.dtype), "shape": list(tensor.shape)}


def write_manifest(path: Path, models: dict) -> None:
    manifest = {
        "generator": "tests/models/make_models.py",
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "models": models,
    }
    text = json.dumps(manifest, indent=2)
    # Keep shapes on one line: [\n  1,\n  16\n] -> [1, 16].
    text = re.sub(
        r"\[\n\s*(\d+(?:,\n\s*\d+)*)\n\s*\]",
        lambda match: "[" + ", ".join(re.split(r",\n\s*", match.group(1))) + "]",
        text,
    )
    path.write_text(text + "\n", encoding="utf-8")


def model_seed(name: str) -> int:
    """Stable per-model seed, so reordering or adding models changes nothing else."""
    return SEED + int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


# --------------------------------------------------------------------------
# Small fixtures
# --------------------------------------------------------------------------


def check_token_ids_generalizes(loaded: torch.jit.ScriptModule, eager: nn.Module) -> None:
    """A trace must not bake the example's N or L into the graph."""
    rng = np.random.default_rng(SEED)
    for shape in [(1, 5), (3, 7), (2, 31)]:
        ids = torch.from_numpy(rng.integers(0, 1000, size=shape, dtype=np.int64))
        got, want = loaded(ids), eager(ids)
        if got.shape != (shape[0], 4):
            raise AssertionError(f"token_ids: shape {tuple(got.shape)} for input {shape}")
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


def write_small(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)  # fixed reduction order for the expected outputs
    models = {}
    for spec in SMALL_MODELS:
        # A model that shares a file with another one keeps the owner's seed.
        owner = spec.pt_file[: -len(".pt")]
        seed = model_seed(owner)
        eager = build_module(spec, seed)
        example = make_inputs(spec, seed)
        if spec.example_sign and spec.example_sign * float(sum(t.sum() for t in example)) <= 0:
            example = [-t for t in example]
        pt_path = out_dir / spec.pt_file
        if owner == spec.name:
            save_module(compile_module(spec, eager, example), pt_path)
        loaded = torch.jit.load(str(pt_path)).eval()

        outputs = flatten_outputs(loaded(*example), spec.output_kind)
        for got, want in zip(outputs, flatten_outputs(eager(*example), spec.output_kind)):
            torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
        if spec.name == "token_ids":
            check_token_ids_generalizes(loaded, eager)

        entry = {
            "file": spec.pt_file,
            "scripted": spec.scripted,
            "inputs": [],
            "outputs": [],
            "output_kind": spec.output_kind,
            "sha256": sha256_of(pt_path),
            "description": spec.description,
        }
        for index, tensor in enumerate(example):
            name = f"{spec.name}.input{index}.npy"
            np.save(out_dir / name, tensor.numpy(), allow_pickle=False)
            entry["inputs"].append(tensor_entry(name, tensor))
        for index, tensor in enumerate(outputs):
            name = f"{spec.name}.output{index}.npy"
            np.save(out_dir / name, tensor.contiguous().numpy(), allow_pickle=False)
            entry["outputs"].append(tensor_entry(name, tensor))
        models[spec.name] = entry
        print(f"wrote {spec.name}: {spec.pt_file} ({pt_path.stat().st_size} bytes)")
    write_manifest(out_dir / "manifest.json", models)
    verify_small(out_dir)


def verify_small(out_dir: Path) -> None:
    """Reload every fixture from disk and compare it with the stored files."""
    torch.set_num_threads(1)
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    failures = []
    for name, entry in manifest["models"].items():
        pt_path = out_dir / entry["file"]
        if sha256_of(pt_path) != entry["sha256"]:
            failures.append(f"{name}: sha256 of {entry['file']} differs from the manifest")
        inputs = [torch.from_numpy(np.load(out_dir / item["file"])) for item in entry["inputs"]]
        module = torch.jit.load(str(pt_path)).eval()
        outputs = flatten_outputs(module(*inputs), entry["output_kind"])
        if len(outputs) != len(entry["outputs"]):
            failures.append(f"{name}: {len(outputs)} outputs, manifest lists {len(entry['outputs'])}")
        for got, item in zip(outputs, entry["outputs"]):
            want = np.load(out_dir / item["file"])
            if str(want.dtype) != item["dtype"] or list(want.shape) != item["shape"]:
                failures.append(f"{name}: {item['file']} does not match its manifest entry")
            if not np.array_equal(got.numpy(), want):
                failures.append(f"{name}: {item['file']} is not reproduced bit for bit")
    oversized = [p.name for p in out_dir.iterdir() if p.is_file() and p.stat().st_size >= MAX_FIXTURE_BYTES]
    failures += [f"{name} is not smaller than 1 MB" for name in oversized]
    if failures:
        raise SystemExit("verification failed:\n  " + "\n  ".join(failures))
    print(f"verified {len(manifest['models'])} fixtures in {out_dir}")


# --------------------------------------------------------------------------
# Large benchmark models
# --------------------------------------------------------------------------


def large_entry(spec: ModelSpec, pt_path: Path) -> dict:
    return {
        "file": spec.pt_file,
        "scripted": spec.scripted,
        "inputs": [{"file": None, "dtype": i.dtype, "shape": list(i.shape)} for i in spec.inputs],
        "outputs": [{"file": None, "dtype": "float32", "shape": list(s)} for s in spec.output_shapes],
        "output_kind": spec.output_kind,
        "sha256": sha256_of(pt_path),
        "description": spec.description,
    }


def write_large(out_dir: Path, force: bool) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    models = {}
    for spec in LARGE_MODELS:
        pt_path = out_dir / spec.pt_file
        if pt_path.exists() and not force:
            print(f"skip {spec.name}: {pt_path} exists (use --force to rebuild)")
        else:
            print(f"building {spec.name} ...", flush=True)
            seed = model_seed(spec.name)
            eager = build_module(spec, seed)
            example = make_inputs(spec, seed)
            compiled = compile_module(spec, eager, example)
            outputs = flatten_outputs(compiled(*example), spec.output_kind)
            shapes = [list(t.shape) for t in outputs]
            if shapes != [list(s) for s in spec.output_shapes]:
                raise AssertionError(f"{spec.name}: output shapes {shapes}, expected {spec.output_shapes}")
            partial = pt_path.with_name(pt_path.name + ".partial")
            save_module(compiled, partial)
            partial.replace(pt_path)
            del eager, compiled
        models[spec.name] = large_entry(spec, pt_path)
        print(f"  {pt_path} ({pt_path.stat().st_size / 1e6:.1f} MB)")
    write_manifest(out_dir / "manifest.json", models)
    print(f"wrote {out_dir / 'manifest.json'}")


# --------------------------------------------------------------------------


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--large",
        metavar="DIR",
        type=Path,
        help="write the large benchmark models (resnet18/50, bert_base_encoder, mlp_100mb) into DIR",
    )
    mode.add_argument(
        "--verify",
        action="store_true",
        help="only check that the small fixtures reload and reproduce their outputs",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        default=SCRIPT_DIR,
        help="directory of the small fixtures (default: %(default)s)",
    )
    parser.add_argument("--force", action="store_true", help="with --large: rebuild existing models")
    return parser.parse_args(argv)


def ensure_fixed_hash_seed() -> None:
    """Re-run this script with PYTHONHASHSEED=0 (see the module docstring)."""
    if os.environ.get("PYTHONHASHSEED") != "0":
        env = dict(os.environ, PYTHONHASHSEED="0")
        os.execve(sys.executable, [sys.executable, *sys.argv], env)


def main(argv: Sequence[str]) -> None:
    args = parse_args(argv)
    ensure_fixed_hash_seed()
    with torch.no_grad():
        if args.large is not None:
            write_large(args.large, args.force)
        elif args.verify:
            verify_small(args.out)
        else:
            write_small(args.out)


if __name__ == "__main__":
    main(sys.argv[1:])
