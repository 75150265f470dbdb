#!/usr/bin/env bash
# The main job of reftune, end to end on real data, through the gRPC API:
#   1. install packages and build the servers and the CLI;
#   2. start PostgreSQL, the filter service, the gateway and a worker on 127.0.0.1;
#   3. as the operator: bootstrap a key, create a customer tenant, register stories260K, build the
#      alignment set from BeaverTails refusals and Alpaca answers, train a teacher and promote it;
#   4. as the customer: upload SST-2 with 10% BeaverTails harmful prompt/answer pairs mixed in, run
#      a REF_TEACHER job and an SFT job, watch both;
#   5. print what the filter removed (precision and recall against the known poison rows), the
#      harmful score and SST-2 accuracy of each job, where the adapters are and where the metrics are.
#
# Environment: REFTUNE_DATA_DIR (default ../shared/data), DEMO_DIR (default /tmp/reftune-demo,
# wiped first), BUILD_DIR (default build), DEMO_KEEP_RUNNING=1 leaves the servers up at the end,
# DEMO_WORKER_THREADS (the worker's LibTorch threads, default 0: one per core). Set it to 1 when
# other work shares the cores: OpenMP threads that wait for a busy core spin, and training then
# runs about 20 times slower.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
demo_dir=${DEMO_DIR:-/tmp/reftune-demo}
data_dir=${REFTUNE_DATA_DIR:-$root/../shared/data}
data_dir=$(cd "$data_dir" && pwd)
export REFTUNE_DATA_DIR=$data_dir

say() { printf '\n== %s\n' "$*"; }

if [ "$(id -u)" -eq 0 ]; then
  bash "$root/scripts/install-deps.sh"
fi

say "Building the servers and the CLI"
export CCACHE_BASEDIR=$root CCACHE_NOHASHDIR=true
cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target reftune reftune-gateway reftune-filter reftune-worker
cli=$build_dir/services/cli/reftune
started=$(date +%s)

rm -rf "$demo_dir"
mkdir -p "$demo_dir/data" "$demo_dir/logs" "$demo_dir/artifacts"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pg_port=$(free_port); gateway_port=$(free_port); filter_port=$(free_port)
gateway_metrics=$(free_port); filter_metrics=$(free_port); worker_metrics=$(free_port)

pids=()
cleanup() {
  if [ "${DEMO_KEEP_RUNNING:-0}" = 1 ]; then
    echo "servers left running; stop them with: kill ${pids[*]}; bash $root/scripts/local-postgres.sh stop $demo_dir/postgres"
    return
  fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bash "$root/scripts/local-postgres.sh" stop "$demo_dir/postgres" 2>/dev/null || true
}
trap cleanup EXIT

say "Starting PostgreSQL and the services on 127.0.0.1"
database=$(bash "$root/scripts/local-postgres.sh" start "$demo_dir/postgres" "$pg_port")
export REFTUNE_DATABASE_URL=$database

"$build_dir/services/gateway/reftune-gateway" --database "$database" \
  --listen "127.0.0.1:$gateway_port" --metrics-listen "127.0.0.1:$gateway_metrics" \
  --artifact-root "$demo_dir/artifacts" --filter-address "127.0.0.1:$filter_port" \
  >"$demo_dir/logs/gateway.log" 2>&1 &
pids+=($!)
"$build_dir/services/filter/reftune-filter" --database "$database" \
  --listen "127.0.0.1:$filter_port" --metrics-listen "127.0.0.1:$filter_metrics" \
  >"$demo_dir/logs/filter.log" 2>&1 &
pids+=($!)
"$build_dir/services/worker/reftune-worker" --database "$database" \
  --artifact-root "$demo_dir/artifacts" --filter-address "127.0.0.1:$filter_port" \
  --metrics-listen "127.0.0.1:$worker_metrics" --intra-op-threads "${DEMO_WORKER_THREADS:-0}" \
  >"$demo_dir/logs/worker.log" 2>&1 &
pids+=($!)

export REFTUNE_SERVER=127.0.0.1:$gateway_port
for attempt in $(seq 1 60); do
  "$cli" health --timeout 1 >/dev/null 2>&1 && break
  [ "$attempt" = 60 ] && { echo "gateway did not start; see $demo_dir/logs/gateway.log"; exit 1; }
  sleep 1
done
"$cli" health --server "127.0.0.1:$filter_port"

say "Operator: bootstrap key, customer tenant and key"
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
operator_key=$("$build_dir/services/gateway/reftune-gateway" bootstrap --database "$database" |
  grep -o 'rtk_[A-Za-z0-9_-]*' | head -1)
export REFTUNE_API_KEY=$operator_key
tenant_id=$("$cli" operator tenants create demo-customer --json | json "['id']")
customer_key=$("$cli" operator keys create "$tenant_id" --json | json "['secret']")
echo "tenant $tenant_id"

say "Building data sets from $data_dir"
"$cli" data build alignment --out "$demo_dir/data/alignment.jsonl" --seed 1
"$cli" data build harmful-eval --out "$demo_dir/data/harmful_eval.jsonl" --seed 1 \
  --beavertails 100 --advbench 50 --malicious-instruct 50
"$cli" data build sst2 --split train --size 1000 --poison 0.1 --seed 1 \
  --out "$demo_dir/data/sst2_poisoned.jsonl"
"$cli" data build sst2 --split eval --size 200 --seed 1 --out "$demo_dir/data/sst2_eval.jsonl"

say "Operator: register stories260K and the alignment data, train the teacher"
"$cli" operator base-models register stories260K --format llama2c \
  --path "$data_dir/stories260K/stories260K.bin" --tokenizer "$data_dir/stories260K/tok512.bin"
alignment_id=$("$cli" operator datasets register alignment --purpose alignment \
  --path "$demo_dir/data/alignment.jsonl" --json | json "['id']")
harmful_id=$("$cli" operator datasets register harmful-eval --purpose harmful-eval \
  --path "$demo_dir/data/harmful_eval.jsonl" --json | json "['id']")
teacher_job=$("$cli" operator teachers create --base-model stories260K \
  --alignment-dataset "$alignment_id" --harmful-eval-dataset "$harmful_id" \
  --request-id demo-teacher --json | json "['id']")
"$cli" jobs watch "$teacher_job"
teacher_id=$("$cli" operator teachers list --json | json "['teachers'][0]['id']")
"$cli" operator teachers promote "$teacher_id"

say "Customer: upload SST-2 with 10% harmful rows, run REF_TEACHER and SFT"
export REFTUNE_API_KEY=$customer_key
train_id=$("$cli" upload "$demo_dir/data/sst2_poisoned.jsonl" --json | json "['id']")
eval_id=$("$cli" upload "$demo_dir/data/sst2_eval.jsonl" --json | json "['id']")
ref_job=$("$cli" jobs create --dataset "$train_id" --validation-dataset "$eval_id" \
  --base-model stories260K --mode ref-teacher --skip-overlong --request-id demo-ref-teacher --json | json "['id']")
sft_job=$("$cli" jobs create --dataset "$train_id" --validation-dataset "$eval_id" \
  --base-model stories260K --mode sft --skip-overlong --request-id demo-sft --json | json "['id']")
"$cli" jobs watch "$ref_job"
"$cli" jobs watch "$sft_job"

say "Results"
"$cli" jobs get "$ref_job" --json >"$demo_dir/ref_job.json"
"$cli" jobs get "$sft_job" --json >"$demo_dir/sft_job.json"
"$cli" screening-report "$ref_job" --json >"$demo_dir/ref_screening.json"
python3 "$root/scripts/demo_summary.py" \
  --data "$demo_dir/data/sst2_poisoned.jsonl" --screening "$demo_dir/ref_screening.json" \
  --job "REF_TEACHER=$demo_dir/ref_job.json" --job "SFT=$demo_dir/sft_job.json" \
  --artifacts "$demo_dir/artifacts"
echo
echo "metrics: http://127.0.0.1:$gateway_metrics/metrics (gateway)," \
  "http://127.0.0.1:$filter_metrics/metrics (filter), http://127.0.0.1:$worker_metrics/metrics (worker)"
echo "logs: $demo_dir/logs; demo took $(( $(date +%s) - started )) s after the build"
