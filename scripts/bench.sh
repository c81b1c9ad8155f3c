#!/usr/bin/env bash
set -euo pipefail
export SECRET_KEY=${SECRET_KEY:-bench-only-not-secret}
.venv/bin/python manage.py migrate --no-input -v 0
# the web processes' allocator settings (scripts/serve.sh); the bench's worker runs without them
MALLOC_MMAP_THRESHOLD_=67108864 MALLOC_TRIM_THRESHOLD_=134217728 .venv/bin/python manage.py bench "$@"
