#!/usr/bin/env bash
# Every PersonaBench retrieval method at every noise level of one community, then the report.
# Usage: evals/scripts/personabench-all.sh [DATA_DIR] [COMMUNITY]   (from the repository root)
# Embeddings are cached in evals/.cache/embeddings: the first run embeds for minutes, later runs take seconds.
set -euo pipefail
cd "$(dirname "$0")/../.."
data="${1:-../shared/data/personabench}"
community="${2:-0}"
npm run -s eval -- personabench --data "$data" --community "$community" --noise all --k 5 \
  --method bm25,dense,dense-lines,hybrid,hybrid-lines,userplug
npm run -s eval -- report
