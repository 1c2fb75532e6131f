#!/usr/bin/python3
"""Generate tests/models/hazards/spin_on_run.pt: a model that never returns for some inputs.

Run with Debian's PyTorch (python3-torch 1.13)::

    /usr/bin/python3 tests/models/make_spin.py

For the crash-isolation tests (issue 9): a forward pass that loops for ever holds
its agent's execution slot unless the agent stops it. On zeros it returns at
once (so it loads and warms up like a healthy model); on an input with a
positive sum it never returns::

    def forward(self, x):
        while bool(x.sum() > 0):
            x = x + 1.0
        return x * 2.0

The check below runs it in child processes: zeros must return, a positive input
must still be running after two seconds.
"""

import subprocess
import sys
from pathlib import Path

import torch
from torch import Tensor, nn

OUT = Path(__file__).resolve().parent / "hazards" / "spin_on_run.pt"


class SpinOnRun(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        while bool(x.sum() > 0):
            x = x + 1.0
        return x * 2.0


def child(fill: float, timeout: float):
    code = f"import torch; m = torch.jit.load({str(OUT)!r}); print(m(torch.full([1, 4], {fill})).tolist())"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)


def main() -> None:
    torch.jit.save(torch.jit.script(SpinOnRun().eval()), str(OUT))
    zeros = child(0.0, 60)
    if zeros.returncode != 0 or "[[0.0, 0.0, 0.0, 0.0]]" not in zeros.stdout:
        sys.exit(f"zeros did not return zeros: {zeros.returncode} {zeros.stdout} {zeros.stderr}")
    try:
        child(1.0, 2)
        sys.exit("a positive input returned; it must spin")
    except subprocess.TimeoutExpired:
        pass
    print(f"wrote and verified {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
