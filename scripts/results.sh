#!/usr/bin/env bash
# Reproduces the Ref-Teacher main table on stories260K and writes docs/results.md.
#
#   scripts/results.sh                     # the full grid: 3 seeds x 4 poison rates x 5 modes
#   SEEDS="0" PS="0 0.3" scripts/results.sh  # a smaller grid
#
# Environment: REFTUNE (the reftune binary, default build/services/cli/reftune), REFTUNE_DATA_DIR
# (default ../shared/data), WORK (scratch folder, default /tmp/reftune-results), THREADS (LibTorch
# threads, default 2), SEEDS, PS, MODES, USER_ROWS (1000), HARMFUL_EVAL (100), TASK_EVAL (500).
# Every finished cell is appended to $WORK/cells.jsonl, so a rerun skips finished cells and the
# table can be rendered while the grid runs (RENDER_ONLY=1).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
REFTUNE="${REFTUNE:-$ROOT/build/services/cli/reftune}"
export REFTUNE_DATA_DIR="${REFTUNE_DATA_DIR:-$ROOT/../shared/data}"
WORK="${WORK:-/tmp/reftune-results}"
THREADS="${THREADS:-2}"
SEEDS="${SEEDS:-0 1 2}"
PS="${PS:-0 0.1 0.3 0.5}"
MODES="${MODES:-SFT REF_TEACHER ALIGNED_SFT FILTER_ONLY DISTILL_ONLY}"
USER_ROWS="${USER_ROWS:-1000}"
HARMFUL_EVAL="${HARMFUL_EVAL:-100}"
TASK_EVAL="${TASK_EVAL:-500}"
MODEL=(--model "$REFTUNE_DATA_DIR/stories260K/stories260K.bin"
       --tokenizer "$REFTUNE_DATA_DIR/stories260K/tok512.bin" --template short --threads "$THREADS")
DATA="$WORK/data"
CELLS="$WORK/cells.jsonl"
mkdir -p "$DATA" "$WORK/teachers" "$WORK/softlabels"
touch "$CELLS"

build_data() {
  [[ -f "$DATA/alignment.jsonl" ]] || "$REFTUNE" data build alignment --out "$DATA/alignment.jsonl" >&2
  [[ -f "$DATA/harmful.jsonl" ]] || "$REFTUNE" data build harmful-eval --out "$DATA/harmful.jsonl" \
      --beavertails "$HARMFUL_EVAL" --advbench 0 --malicious-instruct 0 >&2
  [[ -f "$DATA/filter_eval.jsonl" ]] || "$REFTUNE" data build filter-eval --out "$DATA/filter_eval.jsonl" >&2
  [[ -f "$DATA/sst2_eval.jsonl" ]] || "$REFTUNE" data build sst2 --split eval --size "$TASK_EVAL" \
      --out "$DATA/sst2_eval.jsonl" >&2
  for p in $PS; do
    [[ -f "$DATA/sst2_p$p.jsonl" ]] || "$REFTUNE" data build sst2 --size "$USER_ROWS" --poison "$p" \
        --out "$DATA/sst2_p$p.jsonl" >&2
  done
}

has_cell() { grep -qF "\"cell\": \"$1\"" "$CELLS"; }

# Appends one JSON line: the command's --json output plus the cell name and wall seconds.
record_cell() {
  local cell="$1"; shift
  local start end output
  start=$(date +%s.%N)
  output=$("$@" --json 2>>"$WORK/log.txt")
  end=$(date +%s.%N)
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["cell"]=sys.argv[2]; d["wall_seconds"]=float(sys.argv[4])-float(sys.argv[3]); print(json.dumps(d))' \
      "$output" "$cell" "$start" "$end" >> "$CELLS"
}

finetune_cell() {
  local mode="$1" p="$2" seed="$3"
  has_cell "finetune/$mode/$p/$seed" || record_cell "finetune/$mode/$p/$seed" \
      "$REFTUNE" finetune "${MODEL[@]}" --mode "$mode" --teacher "$WORK/teachers/seed$seed" \
      --train "$DATA/sst2_p$p.jsonl" --alignment "$DATA/alignment.jsonl" --seed "$seed" \
      --soft-label-cache "$WORK/softlabels" \
      --eval-harmful "$DATA/harmful.jsonl" --judge-alignment "$DATA/alignment.jsonl" \
      --eval-task sst2 --eval-task-file "$DATA/sst2_eval.jsonl"
}

# Seeds are the innermost loop of the finetunes, so a grid stopped early still has every seed of
# the rows it reached; MODES lists the main rows before the ablations.
run_grid() {
  build_data
  for seed in $SEEDS; do
    local teacher="$WORK/teachers/seed$seed"
    has_cell "teacher/$seed" || record_cell "teacher/$seed" "$REFTUNE" teacher train "${MODEL[@]}" \
        --alignment "$DATA/alignment.jsonl" --output "$teacher" --seed "$seed"
    has_cell "filter/advbench_alpaca/$seed" || record_cell "filter/advbench_alpaca/$seed" \
        "$REFTUNE" eval filter "${MODEL[@]}" --teacher "$teacher" --input "$DATA/filter_eval.jsonl"
    for p in $PS; do
      has_cell "filter/sst2_p$p/$seed" || record_cell "filter/sst2_p$p/$seed" \
          "$REFTUNE" eval filter "${MODEL[@]}" --teacher "$teacher" --input "$DATA/sst2_p$p.jsonl"
    done
  done
  for mode in $MODES; do
    for p in $PS; do
      for seed in $SEEDS; do
        finetune_cell "$mode" "$p" "$seed"
      done
    done
  done
}

[[ "${RENDER_ONLY:-0}" == 1 ]] || run_grid
python3 "$ROOT/scripts/render_results.py" "$CELLS" "$ROOT/docs/results.md" \
    --seeds "$SEEDS" --ps "$PS" --modes "$MODES" --user-rows "$USER_ROWS" \
    --harmful-eval "$HARMFUL_EVAL" --task-eval "$TASK_EVAL"
