#!/usr/bin/python3
"""Example reftune customer client in Python: upload a JSONL dataset, create a job, watch it.

Run with Debian's interpreter, which has python3-grpcio:

    /usr/bin/python3 examples/python/reftune_client.py --server 127.0.0.1:50051 \\
        --api-key "$REFTUNE_API_KEY" --base-model stories260K train.jsonl

Exit codes: 0 the job succeeded, 1 it failed or was cancelled, 2 the upload or the request was
rejected (every problem is printed with its line number), 3 the server could not be reached.
"""
import argparse
import os
import sys
import uuid

import grpc

import reftune_stubs

CHUNK_BYTES = 1 << 20
TERMINAL_STATES = ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="JSONL file of prompt/response, chat or Alpaca records")
    parser.add_argument("--server", default=os.environ.get("REFTUNE_SERVER", "127.0.0.1:50051"),
                        help="gateway host:port (default $REFTUNE_SERVER, else 127.0.0.1:50051)")
    parser.add_argument("--api-key", default=os.environ.get("REFTUNE_API_KEY"),
                        help="customer API key (default $REFTUNE_API_KEY)")
    parser.add_argument("--ca-cert", help="PEM file of the CA that signed the server certificate; "
                        "enables TLS (default: plaintext, for loopback servers)")
    parser.add_argument("--base-model", required=True, help="registered base model name")
    parser.add_argument("--mode", default="REF_TEACHER",
                        choices=["REF_TEACHER", "SFT", "ALIGNED_SFT", "FILTER_ONLY", "DISTILL_ONLY"])
    parser.add_argument("--epochs", type=int, help="passes over the data (server default 5)")
    parser.add_argument("--batch-size", type=int, help="rows per step (server default 16)")
    parser.add_argument("--max-seq-len", type=int, help="tokens per row (server default 256)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--request-id", help="idempotency key of CreateJob (default: a new UUID)")
    return parser.parse_args()


def upload_requests(stubs, path):
    yield stubs.datasets.UploadDatasetRequest(
        header=stubs.datasets.UploadDatasetHeader(name=os.path.basename(path),
                                                  size_bytes=os.path.getsize(path)))
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            yield stubs.datasets.UploadDatasetRequest(chunk=chunk)


def print_event(stubs, event):
    kind = event.WhichOneof("event")
    if kind == "state_change":
        change = event.state_change
        line = f"state {stubs.jobs.JobState.Name(change.to)}"
        if change.resume_step:
            line += f" (resuming at step {change.resume_step})"
        if change.reason:
            line += f": {change.reason}"
    elif kind == "progress":
        p = event.progress
        line = (f"step {p.step}/{p.total_steps} loss {p.loss:.4f} (task {p.task_loss:.4f}, "
                f"kl {p.kl_loss:.4f}) {p.tokens_per_second:.0f} tokens/s")
    elif kind == "evaluation":
        e = event.evaluation
        parts = [f"{field.name} {value:.4g}" for field, value in e.ListFields()]
        line = "evaluation " + ", ".join(parts)
    else:
        line = event.message
    print(f"[{event.sequence}] {line}", flush=True)


def main():
    args = parse_args()
    if not args.api_key:
        sys.exit("missing API key: pass --api-key or set REFTUNE_API_KEY")
    stubs = reftune_stubs.load()
    if args.ca_cert:
        with open(args.ca_cert, "rb") as f:
            channel = grpc.secure_channel(args.server, grpc.ssl_channel_credentials(f.read()))
    else:
        channel = grpc.insecure_channel(args.server)
    customer = stubs.customer_grpc.CustomerServiceStub(channel)
    metadata = [("authorization", f"Bearer {args.api_key}")]

    try:
        dataset = customer.UploadDataset(upload_requests(stubs, args.dataset), metadata=metadata,
                                         timeout=600)
    except grpc.RpcError as error:
        return report_error(stubs, "upload", error)
    print(f"dataset {dataset.id}: {dataset.record_count} records, {dataset.size_bytes} bytes, "
          f"{len(dataset.report.warnings)} warnings", flush=True)

    hyperparameters = stubs.jobs.Hyperparameters()
    for field in ("epochs", "batch_size", "max_seq_len"):
        value = getattr(args, field)
        if value is not None:
            setattr(hyperparameters, field, value)
    request = stubs.customer.CreateJobRequest(
        dataset_id=dataset.id, base_model=args.base_model, hyperparameters=hyperparameters,
        safety_mode=stubs.jobs.SafetyMode.Value(f"SAFETY_MODE_{args.mode}"), seed=args.seed,
        request_id=args.request_id or str(uuid.uuid4()))
    try:
        job = customer.CreateJob(request, metadata=metadata, timeout=120)
    except grpc.RpcError as error:
        return report_error(stubs, "CreateJob", error)
    print(f"job {job.id}: {stubs.jobs.JobState.Name(job.state)}", flush=True)

    try:
        for event in customer.WatchJob(stubs.customer.WatchJobRequest(job_id=job.id),
                                       metadata=metadata):
            print_event(stubs, event)
            if (event.WhichOneof("event") == "state_change"
                    and stubs.jobs.JobState.Name(event.state_change.to) in TERMINAL_STATES):
                break
        job = customer.GetJob(stubs.customer.GetJobRequest(job_id=job.id), metadata=metadata,
                              timeout=30)
    except grpc.RpcError as error:
        return report_error(stubs, "WatchJob", error)
    state = stubs.jobs.JobState.Name(job.state)
    print(f"job {job.id} finished: {state}", flush=True)
    if state != "JOB_STATE_SUCCEEDED":
        print(f"failure: {job.failure_reason}", file=sys.stderr)
        return 1
    return 0


def report_error(stubs, step, error):
    print(f"{step} failed: {error.code().name}: {error.details()}", file=sys.stderr)
    for field, description in reftune_stubs.bad_request_violations(error, stubs):
        print(f"  {field}: {description}", file=sys.stderr)
    return 3 if error.code() in (grpc.StatusCode.UNAVAILABLE,
                                 grpc.StatusCode.DEADLINE_EXCEEDED) else 2


if __name__ == "__main__":
    sys.exit(main())
