#!/usr/bin/env bash
# Builds .gpu/ (git-ignored) for the GPU check on the `device` machine (bench/gpu_check.py):
# an fp16 copy of the model (the fp32 one is over the 64 MiB the device tool carries), the
# labelled texts, and wheels of the few pure-Python packages its image lacks (pydantic and
# pydantic-settings: sentimon's settings). The image already has torch, transformers,
# tokenizers, numpy and safetensors. See docs/MODEL.md for the command that runs it.
#
#   bash bench/gpu_pack.sh [MODEL_DIR] [VALID_CSV]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-models/default}
valid=${2:-../shared/data/twitter-financial-news/valid.csv}
py=.venv/bin/python
test -f "$model/config.json" || { echo "no model at $model: run 'make model' first" >&2; exit 1; }
test -f "$valid" || { echo "no labelled texts at $valid" >&2; exit 1; }
rm -rf .gpu && mkdir -p .gpu/wheels
"$py" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d .gpu/wheels pydantic==2.14.4 pydantic-core==2.50.5 pydantic-settings==2.16.3 \
  python-dotenv==1.2.4 annotated-types==0.8.0 typing-inspection==0.4.5
HF_HUB_OFFLINE=1 "$py" - "$model" .gpu/model <<'PY'
import sys

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

source, dest = sys.argv[1], sys.argv[2]
model = AutoModelForSequenceClassification.from_pretrained(source, dtype=torch.float32)
model.to(torch.float16).save_pretrained(dest)
AutoTokenizer.from_pretrained(source).save_pretrained(dest)
PY
cp "$valid" .gpu/valid.csv
du -sh .gpu
