"""Generate and import the Python gRPC stubs of reftune's API.

Debian 12's python3-grpc-tools bundles protoc 3.6, which rejects the proto3 `optional` fields of
reftune's protos, so the stubs are generated with the system `protoc` (package protobuf-compiler)
and `grpc_python_plugin` (package protobuf-compiler-grpc). The generated files are cached in a
folder named after a hash of the protos, so a changed proto regenerates them.

The grpc.health.v1 stubs are generated as the top-level modules `health_pb2` and
`health_pb2_grpc`: a `grpc/health/v1` package path would be shadowed by the `grpc` package itself.
"""
import hashlib
import importlib
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import types

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
PROTO_DIR = REPO_ROOT / "proto"
HEALTH_PROTO = pathlib.Path("/usr/share/grpc-proto/grpc/health/v1/health.proto")
PROTOC = os.environ.get("PROTOC", "protoc")
GRPC_PYTHON_PLUGIN = os.environ.get("GRPC_PYTHON_PLUGIN", "/usr/bin/grpc_python_plugin")


def _proto_files(proto_dir):
    return sorted(p.relative_to(proto_dir).as_posix() for p in proto_dir.rglob("*.proto"))


def _protos_hash(proto_dir, files):
    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode())
        digest.update((proto_dir / name).read_bytes())
    if HEALTH_PROTO.exists():
        digest.update(HEALTH_PROTO.read_bytes())
    return digest.hexdigest()[:16]


def _generate(proto_dir, files, out_dir):
    command = [PROTOC, f"-I{proto_dir}", f"--python_out={out_dir}", f"--grpc_out={out_dir}",
               f"--plugin=protoc-gen-grpc={GRPC_PYTHON_PLUGIN}"] + files
    subprocess.run(command, check=True)
    if HEALTH_PROTO.exists():
        subprocess.run([PROTOC, f"-I{HEALTH_PROTO.parent}", f"--python_out={out_dir}",
                        f"--grpc_out={out_dir}", f"--plugin=protoc-gen-grpc={GRPC_PYTHON_PLUGIN}",
                        HEALTH_PROTO.name], check=True)


def stubs_dir(proto_dir=PROTO_DIR, cache_root=None):
    """Return the folder with the generated stubs, generating them on first use."""
    proto_dir = pathlib.Path(proto_dir)
    files = _proto_files(proto_dir)
    if not files:
        raise FileNotFoundError(f"no .proto files under {proto_dir}; pass the repository's proto folder")
    cache_root = pathlib.Path(cache_root or os.environ.get("REFTUNE_STUBS_CACHE")
                              or pathlib.Path(tempfile.gettempdir()) / "reftune-python-stubs")
    target = cache_root / _protos_hash(proto_dir, files)
    if target.exists():
        return target
    cache_root.mkdir(parents=True, exist_ok=True)
    # Generated in a private folder and renamed into place, so concurrent callers never see a
    # half-written set of stubs.
    scratch = pathlib.Path(tempfile.mkdtemp(dir=cache_root, prefix="generating-"))
    try:
        _generate(proto_dir, files, scratch)
        try:
            scratch.rename(target)
        except OSError:
            if not target.exists():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def load(proto_dir=PROTO_DIR, cache_root=None):
    """Return a namespace with reftune's message and service modules, generating them if needed."""
    path = str(stubs_dir(proto_dir, cache_root))
    if path not in sys.path:
        sys.path.insert(0, path)
    modules = {
        "datasets": "reftune.v1.datasets_pb2",
        "jobs": "reftune.v1.jobs_pb2",
        "customer": "reftune.v1.customer_service_pb2",
        "customer_grpc": "reftune.v1.customer_service_pb2_grpc",
        "operator": "reftune.v1.operator_service_pb2",
        "operator_grpc": "reftune.v1.operator_service_pb2_grpc",
        "filter": "reftune.v1.filter_service_pb2",
        "filter_grpc": "reftune.v1.filter_service_pb2_grpc",
        "status": "google.rpc.status_pb2",
        "error_details": "google.rpc.error_details_pb2",
    }
    if HEALTH_PROTO.exists():
        modules.update(health="health_pb2", health_grpc="health_pb2_grpc")
    return types.SimpleNamespace(**{key: importlib.import_module(name)
                                    for key, name in modules.items()})


def bad_request_violations(error, stubs):
    """Return the (field, description) pairs of a google.rpc.BadRequest carried by a gRPC error."""
    for key, value in error.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        status = stubs.status.Status.FromString(value)
        violations = []
        for detail in status.details:
            bad_request = stubs.error_details.BadRequest()
            if detail.Unpack(bad_request):
                violations.extend((v.field, v.description) for v in bad_request.field_violations)
        return violations
    return []
