#include "core/store/migrations.h"

namespace reftune::store {
namespace {

// Version 1: the whole initial schema. Ids are UUIDs stored as text, so clients see opaque strings.
constexpr const char kInitialSchema[] = R"sql(
CREATE TABLE tenants (
  id text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  name text NOT NULL UNIQUE CHECK (name <> ''),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tenant_limits (
  tenant_id text PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  max_concurrent_jobs integer NOT NULL CHECK (max_concurrent_jobs > 0),
  max_dataset_bytes bigint NOT NULL CHECK (max_dataset_bytes > 0)
);

CREATE TABLE api_keys (
  id text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  prefix text NOT NULL UNIQUE,
  key_sha256 text NOT NULL,
  role text NOT NULL CHECK (role IN ('customer', 'operator')),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  revoked_at timestamptz
);

CREATE TABLE base_models (
  id text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  name text NOT NULL UNIQUE CHECK (name <> ''),
  format text NOT NULL CHECK (format IN ('llama2c', 'hf_llama')),
  path text NOT NULL,
  end_of_answer_token_id integer NOT NULL CHECK (end_of_answer_token_id >= 0),
  prompt_template text NOT NULL,
  active_teacher_id text,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE jobs (
  id text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  tenant_id text NOT NULL REFERENCES tenants(id),
  kind text NOT NULL CHECK (kind IN ('CUSTOMER', 'TEACHER')),
  state text NOT NULL CHECK (state IN ('QUEUED', 'SCREENING', 'TRAINING', 'EVALUATING',
      'EXPORTING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'CANCELLING')),
  config text NOT NULL,
  request_id text NOT NULL CHECK (request_id <> ''),
  request_sha256 text NOT NULL,
  attempt integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
  max_attempts integer NOT NULL CHECK (max_attempts > 0),
  lease_owner text,
  lease_expires_at timestamptz,
  cancel_requested boolean NOT NULL DEFAULT false,
  failure_code text,
  failure_reason text,
  progress double precision NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
  teacher_id text,
  last_event_sequence bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  queued_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  UNIQUE (tenant_id, request_id),
  CHECK ((lease_owner IS NULL) = (lease_expires_at IS NULL))
);
-- Claim order and the tenant listing order.
CREATE INDEX jobs_queued ON jobs (queued_at, id) WHERE state = 'QUEUED';
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE lease_owner IS NOT NULL;
CREATE INDEX jobs_tenant_created ON jobs (tenant_id, created_at DESC, id DESC);

CREATE TABLE teachers (
  id text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  base_model_id text NOT NULL REFERENCES base_models(id),
  job_id text REFERENCES jobs(id),
  adapter_path text NOT NULL,
  layer integer NOT NULL CHECK (layer >= 0),
  refusal_feature_path text NOT NULL,
  threshold double precision NOT NULL,
  quality_report jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE base_models ADD FOREIGN KEY (active_teacher_id) REFERENCES teachers(id);
ALTER TABLE jobs ADD FOREIGN KEY (teacher_id) REFERENCES teachers(id);

CREATE TABLE datasets (
  id text PRIMARY KEY DEFAULT gen_random_uuid()::text,
  tenant_id text NOT NULL REFERENCES tenants(id),
  name text NOT NULL CHECK (name <> ''),
  sha256 text NOT NULL CHECK (length(sha256) = 64),
  size_bytes bigint NOT NULL CHECK (size_bytes >= 0),
  record_count bigint NOT NULL CHECK (record_count >= 0),
  storage_path text NOT NULL,
  validation_report jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
CREATE INDEX datasets_tenant_created ON datasets (tenant_id, created_at DESC, id DESC);

CREATE TABLE job_events (
  job_id text NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  sequence bigint NOT NULL CHECK (sequence > 0),
  type text NOT NULL,
  payload jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_id, sequence)
);

CREATE TABLE checkpoints (
  job_id text NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  step bigint NOT NULL CHECK (step >= 0),
  path text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_id, step)
);

CREATE TABLE screening_results (
  job_id text NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  record_index integer NOT NULL CHECK (record_index >= 0),
  line integer NOT NULL CHECK (line > 0),
  score double precision NOT NULL,
  decision text NOT NULL CHECK (decision IN ('KEEP', 'DROP')),
  PRIMARY KEY (job_id, record_index)
);

CREATE TABLE workers (
  id text PRIMARY KEY CHECK (id <> ''),
  host text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  last_heartbeat_at timestamptz NOT NULL DEFAULT now()
);
)sql";

// Version 2: what the gateway needs beyond the initial schema. Datasets get a purpose, because
// operators register alignment and evaluation sets next to customer uploads; base models get their
// tokenizer file and context length for token-length checks at job creation; teachers name their
// harmful-evaluation dataset and the prompt template they were trained with.
constexpr const char kGatewayColumns[] = R"sql(
ALTER TABLE datasets ADD COLUMN purpose text NOT NULL DEFAULT 'FINETUNE'
  CHECK (purpose IN ('FINETUNE', 'ALIGNMENT', 'HARMFUL_EVAL'));

ALTER TABLE base_models ADD COLUMN tokenizer_path text NOT NULL DEFAULT '';
ALTER TABLE base_models ADD COLUMN max_seq_len integer NOT NULL DEFAULT 0 CHECK (max_seq_len >= 0);

ALTER TABLE teachers ADD COLUMN harmful_eval_dataset_id text REFERENCES datasets(id);
ALTER TABLE teachers ADD COLUMN prompt_template text NOT NULL DEFAULT '';
)sql";

}  // namespace

const std::vector<Migration>& EmbeddedMigrations() {
  static const std::vector<Migration> migrations = {
      {1, "initial schema", kInitialSchema},
      {2, "gateway columns", kGatewayColumns},
  };
  return migrations;
}

}  // namespace reftune::store
