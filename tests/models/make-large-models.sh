#!/usr/bin/env bash
# Build the large benchmark TorchScript models (never committed).
#
# Usage: tests/models/make-large-models.sh [DIR]   (default DIR: <repo root>/.models)
#
# Installs Debian's PyTorch (python3-torch, python3-torchvision) when
# /usr/bin/python3 cannot import it, then runs make_models.py --large DIR.
# Models already present in DIR are kept; pass --force to make_models.py
# directly to rebuild them.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/../.." && pwd)"
out_dir="${1:-$repo_root/.models}"
python=/usr/bin/python3

if ! "$python" -c 'import torch, torchvision' 2>/dev/null; then
    echo "PyTorch not importable by $python; installing python3-torch python3-torchvision" >&2
    sudo_cmd=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo_cmd=(sudo)
        else
            echo "error: need root or sudo to apt-get install python3-torch python3-torchvision" >&2
            exit 1
        fi
    fi
    "${sudo_cmd[@]}" apt-get update
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y python3-torch python3-torchvision
fi

exec "$python" "$script_dir/make_models.py" --large "$out_dir"
