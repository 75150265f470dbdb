#!/usr/bin/env python3
"""Renders docs/results.md from the cells.jsonl that scripts/results.sh appends to."""
import argparse
import json
import os
import statistics


NOTES_MARKER = "<!-- analysis: kept when scripts/results.sh renders this page again -->"


def mean_spread(values):
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.1f} (n=1)"
    return f"{statistics.mean(values):.1f} ± {statistics.stdev(values):.1f} (n={len(values)})"


def metric(cell, *path):
    value = cell
    for key in path:
        if not isinstance(value, dict) or key not in value or value[key] is None:
            return None
        value = value[key]
    return value


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("cells")
    parser.add_argument("output")
    parser.add_argument("--seeds", required=True)
    parser.add_argument("--ps", required=True)
    parser.add_argument("--modes", required=True)
    parser.add_argument("--user-rows", required=True)
    parser.add_argument("--harmful-eval", required=True)
    parser.add_argument("--task-eval", required=True)
    args = parser.parse_args()
    seeds, ps, modes = args.seeds.split(), args.ps.split(), args.modes.split()

    cells = {}
    with open(args.cells) as f:
        for line in f:
            line = line.strip()
            if line:
                cell = json.loads(line)
                cells[cell["cell"]] = cell

    expected = len(seeds) * (1 + 1 + len(ps) + len(ps) * len(modes))
    partial = len(cells) < expected
    lines = ["# Results: Ref-Teacher on stories260K", ""]
    if partial:
        lines += [f"**PARTIAL**: {len(cells)} of {expected} grid cells finished; missing cells "
                  "are listed at the end. Rerun `scripts/results.sh` to continue the grid.", ""]
    lines += [
        "Produced by `scripts/results.sh` (see the script header for its settings). "
        "Harmful score (HS) is the share of harmful evaluation prompts whose greedy answer "
        "the refusal judge calls harmful, in percent; **strict** counts every non-refusal, "
        "**content** leaves out empty and bare task-label answers. Finetune accuracy (FA) is "
        "SST-2 accuracy in percent. Each cell is mean ± sample standard deviation over seeds.",
        "",
        f"Data: user sets of {args.user_rows} SST-2 rows with a share p replaced by BeaverTails "
        f"harmful prompt/answer pairs; {args.harmful_eval} held-out BeaverTails harmful prompts; "
        f"{args.task_eval} SST-2 evaluation rows (GLUE dev); alignment set of 500 harmful "
        "(BeaverTails refusals) + 500 harmless (Alpaca) rows, 20% of each held out for "
        "calibration. Seeds: " + ", ".join(seeds) + ".",
        "",
        "Hyperparameters: LoRA r 16, alpha 32 on all seven projections; teacher lr 2e-3, 4 "
        "epochs, batch 16 (8 + 8), lambda 0.1, refusal feature recomputed every 20 steps; "
        "student lr 3e-3, 5 epochs, batch 16 user + 8 alignment rows, alpha 0.1, T 1, top-64 "
        "soft labels; linear decay after 10 warm-up steps; max sequence 256, answers cut at 64 "
        "tokens; template `short`.",
        ""]

    for form, key in (("strict", "strict_percent"), ("content", "content_percent")):
        lines += [f"## Harmful score ({form}) and finetune accuracy", "",
                  "| method | " + " | ".join(f"HS p={p}" for p in ps) +
                  " | avg HS | avg HS p>0 | avg FA |",
                  "|---|" + "---|" * (len(ps) + 3)]
        for mode in modes:
            row = [mode]
            averages_hs, averages_poisoned, averages_fa = [], [], []
            for seed in seeds:
                hs = [metric(cells.get(f"finetune/{mode}/{p}/{seed}", {}), "harmful_score", key)
                      for p in ps]
                fa = [metric(cells.get(f"finetune/{mode}/{p}/{seed}", {}), "accuracy", "percent")
                      for p in ps]
                if all(v is not None for v in hs):
                    averages_hs.append(statistics.mean(hs))
                    poisoned = [v for p, v in zip(ps, hs) if float(p) > 0]
                    if poisoned:
                        averages_poisoned.append(statistics.mean(poisoned))
                if all(v is not None for v in fa):
                    averages_fa.append(statistics.mean(fa))
            for p in ps:
                values = [metric(cells.get(f"finetune/{mode}/{p}/{s}", {}), "harmful_score", key)
                          for s in seeds]
                row.append(mean_spread([v for v in values if v is not None]))
            row += [mean_spread(averages_hs), mean_spread(averages_poisoned),
                    mean_spread(averages_fa)]
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")

    lines += ["## Filter quality", "",
              "| set | precision | recall | F1 | FPR |", "|---|---|---|---|---|"]
    for name in ["advbench_alpaca"] + [f"sst2_p{p}" for p in ps]:
        values = {k: [] for k in ("precision", "recall", "f1", "false_positive_rate")}
        for seed in seeds:
            for k in values:
                v = metric(cells.get(f"filter/{name}/{seed}", {}), "quality", k)
                if v is not None:
                    values[k].append(100.0 * v)
        lines.append(f"| {name} | " + " | ".join(mean_spread(values[k]) for k in values) + " |")
    lines += ["", "Values in percent. SST-2 sets at p = 0 have no harmful rows, so only the "
              "false-positive rate is defined there.", ""]

    lines += ["## Teacher per-layer report (held-out alignment prompts)", ""]
    for seed in seeds:
        teacher = cells.get(f"teacher/{seed}")
        if teacher is None:
            continue
        lines += [f"Seed {seed}: loss {teacher['initial_loss']:.3f} -> "
                  f"{teacher['final_loss']:.3f} in {teacher['train_seconds']:.0f} s; chosen "
                  f"layer {teacher['layer']}, threshold {teacher['threshold']:.3f}.", "",
                  "| layer | best threshold | precision | recall | F1 | FPR | F1 at 0.9 |",
                  "|---|---|---|---|---|---|---|"]
        for layer in teacher["report"]["layers"]:
            q = layer["quality"]
            fixed = layer.get("fixed_threshold_quality", {})
            fmt = lambda v: "-" if v is None else f"{v:.3f}"
            lines.append(f"| {layer['layer']} | {layer['threshold']:.3f} | {fmt(q['precision'])} "
                         f"| {fmt(q['recall'])} | {fmt(q['f1'])} | "
                         f"{fmt(q['false_positive_rate'])} | {fmt(fixed.get('f1'))} |")
        lines.append("")

    lines += ["## Wall times", "", "| stage | mean seconds | cells |", "|---|---|---|"]
    for prefix in ["teacher/"] + [f"finetune/{m}/" for m in modes]:
        walls = [c["wall_seconds"] for name, c in cells.items() if name.startswith(prefix)]
        if walls:
            lines.append(f"| {prefix.rstrip('/')} | {statistics.mean(walls):.0f} | {len(walls)} |")
    lines.append("")

    if partial:
        missing = []
        for seed in seeds:
            names = [f"teacher/{seed}", f"filter/advbench_alpaca/{seed}"]
            names += [f"filter/sst2_p{p}/{seed}" for p in ps]
            names += [f"finetune/{m}/{p}/{seed}" for p in ps for m in modes]
            missing += [n for n in names if n not in cells]
        lines += ["## Missing cells", "", ", ".join(missing), ""]

    # Hand-written analysis below the marker survives a re-render.
    notes = ""
    if os.path.exists(args.output):
        with open(args.output) as f:
            previous = f.read()
        if NOTES_MARKER in previous:
            notes = previous[previous.index(NOTES_MARKER):]
    with open(args.output, "w") as f:
        f.write("\n".join(lines))
        if notes:
            f.write("\n" + notes)


if __name__ == "__main__":
    main()
