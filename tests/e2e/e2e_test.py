#!/usr/bin/python3
"""End-to-end test of reftune through its gRPC API.

Starts a throwaway PostgreSQL cluster and the real reftune-gateway, reftune-filter and
reftune-worker processes on 127.0.0.1. Then, as an operator and two customer tenants, it runs the
whole flow: teacher training and promotion, a rejected upload with three bad lines, an upload and
a dry-run screening. A REF_TEACHER job runs to SUCCEEDED and is checked through its screening
report, events, adapter download and generation. A job is cancelled while training, the Python
example client runs a job, and the second tenant must not see the first one's data. Last, the
/metrics of every process must export each metric name the dashboard and alert rules use.

Environment: REFTUNE_BUILD_DIR (the CMake build folder) and REFTUNE_DATA_DIR (the public data sets
with stories260K), both set by CTest. E2E_KEEP=1 keeps the scratch folder with the server logs.
"""
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import grpc

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "examples" / "python"))
sys.path.insert(0, str(REPO_ROOT / "tests" / "deploy"))
import reftune_stubs  # noqa: E402

BUILD_DIR = pathlib.Path(os.environ.get("REFTUNE_BUILD_DIR", REPO_ROOT / "build"))
DATA_DIR = pathlib.Path(os.environ.get("REFTUNE_DATA_DIR", REPO_ROOT.parent / "shared" / "data"))
CLI = BUILD_DIR / "services" / "cli" / "reftune"
BASE_MODEL = "stories260K"
TERMINAL = ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED")
# Upper bound of each wait for a job; the jobs below take seconds on one core.
JOB_TIMEOUT_SECONDS = 600

stubs = reftune_stubs.load()
stack = None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def auth(key):
    return [("authorization", f"Bearer {key}")]


def state_name(state):
    return stubs.jobs.JobState.Name(state)


class Stack:
    """PostgreSQL plus the three reftune processes, each on its own loopback ports."""

    def __init__(self):
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="reftune-e2e-"))
        # PostgreSQL runs as the `postgres` user when the test runs as root, and must reach its
        # data folder inside this one.
        self.dir.chmod(0o755)
        self.logs = self.dir / "logs"
        self.logs.mkdir()
        self.artifacts = self.dir / "artifacts"
        self.processes = {}
        self.ports = {name: free_port() for name in (
            "postgres", "gateway", "filter", "worker_health",
            "gateway_metrics", "filter_metrics", "worker_metrics")}

    def start(self):
        self.database = subprocess.run(
            ["bash", str(REPO_ROOT / "scripts" / "local-postgres.sh"), "start",
             str(self.dir / "postgres"), str(self.ports["postgres"])],
            check=True, capture_output=True, text=True).stdout.strip()
        address = lambda name: f"127.0.0.1:{self.ports[name]}"  # noqa: E731
        self.spawn("filter", BUILD_DIR / "services" / "filter" / "reftune-filter",
                   "--database", self.database, "--listen", address("filter"),
                   "--metrics-listen", address("filter_metrics"),
                   "--model-threads", "1", "--intra-op-threads", "1")
        self.spawn("gateway", BUILD_DIR / "services" / "gateway" / "reftune-gateway",
                   "--database", self.database, "--listen", address("gateway"),
                   "--metrics-listen", address("gateway_metrics"),
                   "--artifact-root", str(self.artifacts), "--filter-address", address("filter"),
                   "--sample-interval", "0.5")
        self.spawn("worker", BUILD_DIR / "services" / "worker" / "reftune-worker",
                   "--database", self.database, "--artifact-root", str(self.artifacts),
                   "--filter-address", address("filter"), "--worker-id", "e2e-worker",
                   "--metrics-listen", address("worker_metrics"),
                   "--health-listen", address("worker_health"), "--intra-op-threads", "1",
                   "--poll-seconds", "1", "--heartbeat-seconds", "1")
        self.gateway = self.channel("gateway")
        self.customer_stub = stubs.customer_grpc.CustomerServiceStub(self.gateway)
        self.operator_stub = stubs.operator_grpc.OperatorServiceStub(self.gateway)
        for name in ("gateway", "filter", "worker_health"):
            self.wait_serving(name)
        bootstrap = subprocess.run(
            [str(BUILD_DIR / "services" / "gateway" / "reftune-gateway"), "bootstrap",
             "--database", self.database], check=True, capture_output=True, text=True)
        self.operator_key = next(word for word in bootstrap.stdout.split()
                                 if word.startswith("rtk_"))

    def spawn(self, name, binary, *args):
        log = open(self.logs / f"{name}.log", "wb")
        self.processes[name] = subprocess.Popen([str(binary), *args], stdout=log,
                                                stderr=subprocess.STDOUT)

    def channel(self, name):
        return grpc.insecure_channel(f"127.0.0.1:{self.ports[name]}")

    def health(self, name, service=""):
        stub = stubs.health_grpc.HealthStub(self.channel(name))
        response = stub.Check(stubs.health.HealthCheckRequest(service=service), timeout=5)
        return stubs.health.HealthCheckResponse.ServingStatus.Name(response.status)

    def wait_serving(self, name, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.health(name)
            except grpc.RpcError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not serve health checks within {timeout} s; "
                                       f"see {self.logs}")
                time.sleep(0.2)

    def scrape(self, name):
        url = f"http://127.0.0.1:{self.ports[name + '_metrics']}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.read().decode()

    def stop(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        subprocess.run(["bash", str(REPO_ROOT / "scripts" / "local-postgres.sh"), "stop",
                        str(self.dir / "postgres")], check=False, capture_output=True)


def build_data(folder):
    """Writes the small data sets of this test with the dataset builders; returns their paths."""
    folder.mkdir()
    paths = {name: folder / f"{name}.jsonl"
             for name in ("alignment", "harmful_eval", "train", "validation")}
    builds = [
        ["alignment", "--harmful", "24", "--harmless", "24", "--calibration-harmful", "8",
         "--calibration-harmless", "8", "--out", paths["alignment"]],
        ["harmful-eval", "--beavertails", "6", "--advbench", "2", "--malicious-instruct", "0",
         "--out", paths["harmful_eval"]],
        ["sst2", "--split", "train", "--size", "40", "--poison", "0.2", "--out", paths["train"]],
        ["sst2", "--split", "eval", "--size", "12", "--out", paths["validation"]],
    ]
    for build in builds:
        subprocess.run([str(CLI), "data", "build", *map(str, build), "--data-dir", str(DATA_DIR),
                        "--seed", "7"], check=True, capture_output=True)
    return paths


def setUpModule():
    global stack
    if not (DATA_DIR / "stories260K" / "stories260K.bin").exists():
        raise unittest.SkipTest(f"no stories260K under {DATA_DIR}; set REFTUNE_DATA_DIR")
    stack = Stack()
    try:
        stack.start()
        stack.data = build_data(stack.dir / "data")
    except Exception:
        tearDownModule()
        raise


def tearDownModule():
    if stack is None:
        return
    stack.stop()
    if os.environ.get("E2E_KEEP") == "1":
        print(f"E2E_KEEP=1: kept the scratch folder {stack.dir}", file=sys.stderr)
    else:
        shutil.rmtree(stack.dir, ignore_errors=True)


def upload(key, text, name="upload.jsonl", chunk_bytes=97):
    """Streams `text` in small chunks so that records span chunk boundaries."""
    data = text.encode()

    def requests():
        yield stubs.datasets.UploadDatasetRequest(
            header=stubs.datasets.UploadDatasetHeader(name=name, size_bytes=len(data)))
        for start in range(0, len(data), chunk_bytes):
            yield stubs.datasets.UploadDatasetRequest(chunk=data[start:start + chunk_bytes])

    return stack.customer_stub.UploadDataset(requests(), metadata=auth(key), timeout=60)


def watch_until_done(key, job_id, stop_at=TERMINAL, timeout=JOB_TIMEOUT_SECONDS):
    """Returns the events WatchJob streamed up to the first state in `stop_at`."""
    events = []
    stream = stack.customer_stub.WatchJob(stubs.customer.WatchJobRequest(job_id=job_id),
                                          metadata=auth(key), timeout=timeout)
    for event in stream:
        events.append(event)
        if (event.WhichOneof("event") == "state_change"
                and state_name(event.state_change.to) in stop_at):
            stream.cancel()
            break
    return events


def states_of(events):
    return [state_name(e.state_change.to) for e in events if e.WhichOneof("event") == "state_change"]


class EndToEnd(unittest.TestCase):
    """Steps share the stack and run in name order; later steps use what earlier ones created."""

    shared = {}

    def customer(self, method, request, key=None, **kwargs):
        return getattr(stack.customer_stub, method)(
            request, metadata=auth(key or self.shared["key_a"]), timeout=60, **kwargs)

    def operator(self, method, request):
        return getattr(stack.operator_stub, method)(request, metadata=auth(stack.operator_key),
                                                    timeout=60)

    def test_01_every_process_serves_health(self):
        for name in ("gateway", "filter", "worker_health"):
            self.assertEqual(stack.health(name), "SERVING", name)
        for name, service in [("gateway", "reftune.v1.CustomerService"),
                              ("gateway", "reftune.v1.OperatorService"),
                              ("filter", "reftune.v1.FilterService")]:
            self.assertEqual(stack.health(name, service), "SERVING", service)

    def test_02_operator_sets_up_tenants_and_teacher(self):
        for tenant in ("a", "b"):
            created = self.operator("CreateTenant", stubs.operator.CreateTenantRequest(
                name=f"e2e-tenant-{tenant}"))
            key = self.operator("CreateApiKey",
                                stubs.operator.CreateApiKeyRequest(tenant_id=created.id))
            self.shared[f"key_{tenant}"] = key.secret

        self.operator("RegisterBaseModel", stubs.operator.RegisterBaseModelRequest(
            name=BASE_MODEL, format="llama2c", path=str(DATA_DIR / "stories260K" / "stories260K.bin"),
            tokenizer_path=str(DATA_DIR / "stories260K" / "tok512.bin")))
        alignment = self.operator("RegisterDataset", stubs.operator.RegisterDatasetRequest(
            name="alignment", purpose=stubs.datasets.DATASET_PURPOSE_ALIGNMENT,
            path=str(stack.data["alignment"])))
        harmful = self.operator("RegisterDataset", stubs.operator.RegisterDatasetRequest(
            name="harmful-eval", purpose=stubs.datasets.DATASET_PURPOSE_HARMFUL_EVAL,
            path=str(stack.data["harmful_eval"])))
        settings = stubs.operator.TeacherSettings(
            lora_r=4, batch_size=8, epochs=1, max_seq_len=96, max_answer_tokens=16,
            feature_update_interval_steps=2)
        job = self.operator("CreateTeacherJob", stubs.operator.CreateTeacherJobRequest(
            base_model=BASE_MODEL, alignment_dataset_id=alignment.id,
            harmful_eval_dataset_id=harmful.id, settings=settings, seed=3,
            request_id="e2e-teacher"))

        events = watch_until_done(stack.operator_key, job.id)
        self.assertEqual(states_of(events)[-1], "JOB_STATE_SUCCEEDED", states_of(events))
        teachers = self.operator("ListTeachers",
                                 stubs.operator.ListTeachersRequest(base_model=BASE_MODEL)).teachers
        self.assertEqual(len(teachers), 1)
        report = {layer.layer: layer for layer in teachers[0].layer_report}
        self.assertEqual(sorted(report), [0, 1, 2, 3, 4], "stories260K has 5 blocks")
        chosen = report[teachers[0].layer]
        self.assertAlmostEqual(chosen.best_threshold, teachers[0].threshold, places=5)
        self.assertGreater(chosen.f1, 0)
        self.assertGreater(chosen.recall, 0)
        promoted = self.operator("PromoteTeacher",
                                 stubs.operator.PromoteTeacherRequest(teacher_id=teachers[0].id))
        self.assertTrue(promoted.active)
        self.shared["teacher_id"] = promoted.id

    def test_03_upload_with_three_bad_lines_lists_each(self):
        lines = [
            '{"prompt": "Is this good?", "response": "positive"}',
            '{"prompt": "broken json", ',
            '{"prompt": "Is this bad?", "response": "negative"}',
            '{"prompt": "no response field"}',
            '{"messages": [{"role": "robot", "content": "hi"}, '
            '{"role": "assistant", "content": "hello"}]}',
        ]
        before = self.customer("ListDatasets", stubs.datasets.ListDatasetsRequest()).datasets
        with self.assertRaises(grpc.RpcError) as raised:
            upload(self.shared["key_a"], "\n".join(lines) + "\n", name="bad.jsonl")
        self.assertEqual(raised.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        violations = reftune_stubs.bad_request_violations(raised.exception, stubs)
        bad_lines = sorted({field.split(":")[0] for field, _ in violations})
        self.assertEqual(bad_lines, ["line 2", "line 4", "line 5"], violations)

        after = self.customer("ListDatasets", stubs.datasets.ListDatasetsRequest()).datasets
        self.assertEqual(len(after), len(before), "a rejected upload must store nothing")

    def test_04_upload_and_screen_dataset(self):
        train_text = stack.data["train"].read_text()
        dataset = upload(self.shared["key_a"], train_text, name="train.jsonl")
        records = len(train_text.splitlines())
        self.assertEqual(dataset.record_count, records)
        self.assertEqual(dataset.report.format_counts["prompt_response"], records)
        validation = upload(self.shared["key_a"], stack.data["validation"].read_text(),
                            name="validation.jsonl")
        self.shared.update(dataset_id=dataset.id, validation_id=validation.id, records=records)

        screened, summary = [], None
        for response in self.customer("ScreenDataset", stubs.customer.ScreenDatasetRequest(
                dataset_id=dataset.id, base_model=BASE_MODEL)):
            screened.extend(response.records)
            self.assertEqual(response.teacher_id, self.shared["teacher_id"])
            if response.HasField("summary"):
                summary = response.summary
        self.assertEqual(len(screened), records)
        self.assertEqual(sorted(r.line for r in screened), list(range(1, records + 1)))
        self.assertIsNotNone(summary)
        self.assertEqual(summary.records_screened, records)
        self.assertEqual(summary.records_filtered, sum(r.filtered for r in screened))
        for record in screened:
            self.assertEqual(record.filtered, record.score > summary.threshold, record)

    def job_request(self, request_id, epochs, mode="SAFETY_MODE_REF_TEACHER"):
        hyperparameters = stubs.jobs.Hyperparameters(
            lora_r=4, batch_size=4, epochs=epochs, max_seq_len=256, max_answer_tokens=8,
            warmup_steps=1, checkpoint_interval_steps=2,
            overlong_records=stubs.jobs.OVERLONG_RECORDS_SKIP)
        return stubs.customer.CreateJobRequest(
            dataset_id=self.shared["dataset_id"], validation_dataset_id=self.shared["validation_id"],
            base_model=BASE_MODEL, hyperparameters=hyperparameters,
            safety_mode=stubs.jobs.SafetyMode.Value(mode), seed=5, request_id=request_id)

    def test_05_ref_teacher_job_succeeds(self):
        job = self.customer("CreateJob", self.job_request("e2e-ref-teacher", epochs=1))
        again = self.customer("CreateJob", self.job_request("e2e-ref-teacher", epochs=1))
        self.assertEqual(again.id, job.id, "the same request_id must return the same job")
        self.shared["job_id"] = job.id

        events = watch_until_done(self.shared["key_a"], job.id)
        self.assertEqual(states_of(events), [
            "JOB_STATE_QUEUED", "JOB_STATE_SCREENING", "JOB_STATE_TRAINING", "JOB_STATE_EVALUATING",
            "JOB_STATE_EXPORTING", "JOB_STATE_SUCCEEDED"])
        self.assertTrue(any(e.WhichOneof("event") == "progress" for e in events))
        done = self.customer("GetJob", stubs.customer.GetJobRequest(job_id=job.id))
        self.assertEqual(done.teacher_id, self.shared["teacher_id"])
        self.assertEqual(done.screening.records_screened, self.shared["records"])
        self.assertTrue(done.evaluation.HasField("harmful_score_strict"))
        self.assertTrue(done.evaluation.HasField("label_accuracy"))

    def test_06_job_events_page_without_gaps(self):
        sequences, token = [], ""
        while True:
            page = self.customer("ListJobEvents", stubs.customer.ListJobEventsRequest(
                job_id=self.shared["job_id"], page_size=3, page_token=token))
            self.assertLessEqual(len(page.events), 3)
            sequences.extend(e.sequence for e in page.events)
            token = page.next_page_token
            if not token:
                break
        self.assertEqual(sequences, list(range(1, len(sequences) + 1)))

    def test_07_screening_report_covers_every_record(self):
        report = self.customer("GetScreeningReport", stubs.customer.GetScreeningReportRequest(
            job_id=self.shared["job_id"], page_size=1000))
        self.assertEqual(report.summary.records_screened, self.shared["records"])
        self.assertEqual(len(report.records), self.shared["records"])
        self.assertEqual(report.summary.records_filtered, sum(r.filtered for r in report.records))

    def test_08_download_and_generate(self):
        files = {}
        for chunk in self.customer("DownloadArtifact",
                                   stubs.customer.DownloadArtifactRequest(job_id=self.shared["job_id"])):
            files[chunk.file_name] = files.get(chunk.file_name, b"") + chunk.data
        self.assertIn("adapter_model.safetensors", files)
        config = json.loads(files["adapter_config.json"])
        self.assertEqual(config["r"], 4)
        self.assertIn("base_model_name_or_path", config)

        response = self.customer("Generate", stubs.customer.GenerateRequest(
            job_id=self.shared["job_id"], prompts=["Once upon a time", "How do I pick a lock?"],
            max_new_tokens=8))
        self.assertEqual(len(response.completions), 2)

    def test_09_job_cancelled_while_training(self):
        job = self.customer("CreateJob", self.job_request("e2e-cancel", epochs=100))
        watch_until_done(self.shared["key_a"], job.id, stop_at=("JOB_STATE_TRAINING",) + TERMINAL)
        cancelling = self.customer("CancelJob", stubs.customer.CancelJobRequest(job_id=job.id))
        self.assertIn(state_name(cancelling.state), ("JOB_STATE_CANCELLING", "JOB_STATE_CANCELLED"))
        events = watch_until_done(self.shared["key_a"], job.id)
        self.assertEqual(states_of(events)[-1], "JOB_STATE_CANCELLED")

    def test_10_python_example_client_runs_a_job(self):
        environment = dict(os.environ, REFTUNE_API_KEY=self.shared["key_a"])
        result = subprocess.run(
            ["/usr/bin/python3", str(REPO_ROOT / "examples" / "python" / "reftune_client.py"),
             "--server", f"127.0.0.1:{stack.ports['gateway']}", "--base-model", BASE_MODEL,
             "--mode", "SFT", "--epochs", "1", "--batch-size", "8", "--max-seq-len", "256",
             str(stack.data["train"])],
            env=environment, capture_output=True, text=True, timeout=JOB_TIMEOUT_SECONDS)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("JOB_STATE_SUCCEEDED", result.stdout)

    def test_11_second_tenant_sees_nothing_of_the_first(self):
        key_b = self.shared["key_b"]
        job_id, dataset_id = self.shared["job_id"], self.shared["dataset_id"]
        listed = self.customer("ListJobs", stubs.customer.ListJobsRequest(), key=key_b)
        self.assertEqual(len(listed.jobs), 0)
        datasets = self.customer("ListDatasets", stubs.datasets.ListDatasetsRequest(), key=key_b)
        self.assertEqual(len(datasets.datasets), 0)
        calls = [
            ("GetJob", stubs.customer.GetJobRequest(job_id=job_id)),
            ("CancelJob", stubs.customer.CancelJobRequest(job_id=job_id)),
            ("GetDataset", stubs.datasets.GetDatasetRequest(dataset_id=dataset_id)),
            ("DeleteDataset", stubs.datasets.DeleteDatasetRequest(dataset_id=dataset_id)),
            ("GetScreeningReport", stubs.customer.GetScreeningReportRequest(job_id=job_id)),
            ("Generate", stubs.customer.GenerateRequest(job_id=job_id, prompts=["hi"])),
        ]
        for method, request in calls:
            with self.subTest(method=method), self.assertRaises(grpc.RpcError) as raised:
                self.customer(method, request, key=key_b)
            self.assertEqual(raised.exception.code(), grpc.StatusCode.NOT_FOUND, method)
        for method, request in [
                ("WatchJob", stubs.customer.WatchJobRequest(job_id=job_id)),
                ("DownloadArtifact", stubs.customer.DownloadArtifactRequest(job_id=job_id))]:
            with self.subTest(method=method), self.assertRaises(grpc.RpcError) as raised:
                list(self.customer(method, request, key=key_b))
            self.assertEqual(raised.exception.code(), grpc.StatusCode.NOT_FOUND, method)
        # The first tenant's dataset survived the second tenant's delete attempt.
        kept = self.customer("GetDataset", stubs.datasets.GetDatasetRequest(dataset_id=dataset_id))
        self.assertEqual(kept.id, dataset_id)

    def test_12_cli_screens_and_generates(self):
        common = ["--server", f"127.0.0.1:{stack.ports['gateway']}",
                  "--api-key", self.shared["key_a"], "--json"]
        screened = subprocess.run(
            [str(CLI), "screen", self.shared["dataset_id"], "--base-model", BASE_MODEL, *common],
            capture_output=True, text=True, timeout=120)
        self.assertEqual(screened.returncode, 0, screened.stderr)
        response = json.loads(screened.stdout)
        self.assertEqual(len(response["records"]), self.shared["records"])
        self.assertEqual(int(response["summary"]["records_screened"]), self.shared["records"])

        generated = subprocess.run(
            [str(CLI), "generate", self.shared["job_id"], "Once upon a time", "--max-new-tokens",
             "6", *common], capture_output=True, text=True, timeout=120)
        self.assertEqual(generated.returncode, 0, generated.stderr)
        self.assertEqual(len(json.loads(generated.stdout)["completions"]), 1)

    def test_13_metrics_cover_dashboard_and_alerts(self):
        import deploy_metric_names

        exported = {}
        for name in ("gateway", "filter", "worker"):
            text = stack.scrape(name)
            exported[name] = {line.split()[2] for line in text.splitlines()
                              if line.startswith("# TYPE ")}
        every = set().union(*exported.values())
        used = deploy_metric_names.metric_names_used()
        self.assertTrue(used, "the dashboard and alert rules use no metric names")
        self.assertEqual(sorted(used - every), [], "names used by the dashboard or alerts that no "
                         "process exports")

        samples = {name: stack.scrape(name) for name in ("gateway", "filter", "worker")}
        self.assertIn('reftune_grpc_server_requests_total{', samples["gateway"])
        self.assertIn('reftune_dataset_rejections_total{', samples["gateway"])
        self.assertIn('reftune_filter_prompts_total{', samples["filter"])
        self.assertIn("reftune_train_tokens_total", samples["worker"])
        self.assertIn("reftune_worker_heartbeats_total", samples["worker"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
