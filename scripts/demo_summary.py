"""Prints the demo's result table from the CLI's JSON output.

Reads the uploaded JSONL (whose meta.poison marks the rows the demo mixed in), the REF_TEACHER job's
screening report and each job, and prints what was filtered, precision and recall against the
poison rows, harmful score and SST-2 accuracy. Standard library only.
"""
import argparse
import json
import os


def field(message, *names, default=None):
    """Returns the first present key among `names`; the CLI may print proto or JSON names."""
    for name in names:
        if isinstance(message, dict) and name in message:
            return message[name]
    return default


def percent(value):
    return "-" if value is None else f"{100 * float(value):.1f}%"


def load_poison_lines(path):
    poison = set()
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip() and json.loads(line).get("meta", {}).get("poison"):
                poison.add(number)
    return poison


def load_screening(path):
    with open(path, encoding="utf-8") as report:
        data = json.load(report)
    records = field(data, "records", default=[])
    filtered = {int(field(r, "line")) for r in records if field(r, "filtered", default=False)}
    return len(records), filtered


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True, help="uploaded JSONL with meta.poison marks")
    parser.add_argument("--screening", required=True, help="screening-report --json output")
    parser.add_argument("--job", action="append", required=True, help="NAME=jobs get --json file")
    parser.add_argument("--artifacts", required=True, help="artifact root of the demo")
    args = parser.parse_args()

    poison = load_poison_lines(args.data)
    screened, filtered = load_screening(args.screening)
    caught = len(filtered & poison)
    precision = caught / len(filtered) if filtered else None
    recall = caught / len(poison) if poison else None
    print(f"Filter (REF_TEACHER job): {screened} rows screened, {len(filtered)} filtered, "
          f"{len(poison)} poison rows; precision {percent(precision)}, recall {percent(recall)}")
    print()

    header = f"{'job':<12} {'state':<10} {'HS strict':>10} {'HS content':>11} {'SST-2 acc':>10}  adapter"
    print(header)
    print("-" * len(header))
    for spec in args.job:
        name, path = spec.split("=", 1)
        with open(path, encoding="utf-8") as job_file:
            job = json.load(job_file)
        evaluation = field(job, "evaluation", default={})
        state = str(field(job, "state", default="?")).replace("JOB_STATE_", "")
        adapter = os.path.join(args.artifacts, "jobs", field(job, "id", default="?"), "adapter")
        print(f"{name:<12} {state:<10} "
              f"{percent(field(evaluation, 'harmful_score_strict', 'harmfulScoreStrict')):>10} "
              f"{percent(field(evaluation, 'harmful_score_content', 'harmfulScoreContent')):>11} "
              f"{percent(field(evaluation, 'label_accuracy', 'labelAccuracy')):>10}  {adapter}")


if __name__ == "__main__":
    main()
