#!/usr/bin/env bash
# Builds the image and starts compose.yaml's regional deployment, then asks both replicas whether they
# are ready and checks that the worker runs. Needs a Docker engine with the compose plugin: without one
# it says so and skips (exit 0), so CI on a machine without Docker still runs everything else.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! docker info >/dev/null 2>&1 || ! docker compose version >/dev/null 2>&1; then
  echo "SKIPPED image build and start: no Docker engine with the compose plugin here (docker info failed)"
  exit 0
fi

compose=(docker compose --env-file deploy/example.env -p casusregister-smoke)
trap '"${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true' EXIT
"${compose[@]}" up --build --detach --wait --wait-timeout 180
for port in 8001 8002; do
  curl --fail --silent --show-error "http://127.0.0.1:${port}/ready" && echo
done
"${compose[@]}" exec -T worker casusregister status
echo "image built and started: both replicas ready, the worker keeps up"
