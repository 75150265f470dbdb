// Operator subcommands under `reftune operator`: tenants, keys, limits, base models, datasets,
// teachers, workers and stuck jobs.
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "reftune/v1/operator_service.grpc.pb.h"
#include "services/cli/commands.h"
#include "services/cli/gateway_client.h"

namespace reftune::cli {
namespace {

using Stub = v1::OperatorService::Stub;

// Adds `name` under `group` with the common flags. `call` makes the RPC; an error is printed
// with its violations, and a response is printed as JSON or by `print` as a table.
template <typename Response, typename Call, typename Print>
CLI::App* AddCall(CLI::App& group, const std::string& name, const std::string& help,
                  int* exit_code, std::shared_ptr<Common> common, Call call, Print print) {
  CLI::App* command = group.add_subcommand(name, help);
  AddCommon(*command, common.get());
  const std::string full_name = absl::StrCat("operator ", group.get_name(), " ", name);
  command->callback([=] {
    *exit_code = WithStub<v1::OperatorService>(full_name, common->client, [&](Stub& stub) {
      Response response;
      const grpc::Status status = call(stub, GatewayCall(common->client).get(), &response);
      if (!status.ok()) return PrintRpcError(full_name, status);
      common->json ? PrintJson(response) : print(response);
      return kExitOk;
    });
  });
  return command;
}

void PrintTenants(const google::protobuf::RepeatedPtrField<v1::Tenant>& tenants) {
  std::vector<std::vector<std::string>> rows;
  for (const v1::Tenant& tenant : tenants) {
    rows.push_back({tenant.id(), tenant.name(), absl::StrCat(tenant.max_concurrent_jobs()),
                    absl::StrCat(tenant.max_dataset_bytes())});
  }
  PrintTable({"ID", "NAME", "MAX JOBS", "MAX DATASET BYTES"}, rows);
}

void PrintJob(const v1::Job& job) {
  std::cout << job.id() << " " << v1::JobState_Name(job.state()).substr(10) << "\n";
}

void AddTenantCommands(CLI::App& root, int* exit_code) {
  auto common = std::make_shared<Common>();
  CLI::App* tenants = root.add_subcommand("tenants", "Create and list tenants");
  tenants->require_subcommand(1);
  auto create = std::make_shared<v1::CreateTenantRequest>();
  AddCall<v1::Tenant>(*tenants, "create", "Create a tenant", exit_code, common,
                      [=](Stub& stub, grpc::ClientContext* context, v1::Tenant* response) {
                        return stub.CreateTenant(context, *create, response);
                      },
                      [](const v1::Tenant& tenant) {
                        google::protobuf::RepeatedPtrField<v1::Tenant> list;
                        *list.Add() = tenant;
                        PrintTenants(list);
                      })
      ->add_option("name", *create->mutable_name(), "tenant name, [A-Za-z0-9._-]")
      ->required();
  AddCall<v1::ListTenantsResponse>(
      *tenants, "list", "List tenants", exit_code, common,
      [](Stub& stub, grpc::ClientContext* context, v1::ListTenantsResponse* response) {
        return stub.ListTenants(context, v1::ListTenantsRequest(), response);
      },
      [](const v1::ListTenantsResponse& response) { PrintTenants(response.tenants()); });

  CLI::App* keys = root.add_subcommand("keys", "Create and revoke API keys");
  keys->require_subcommand(1);
  auto key_request = std::make_shared<v1::CreateApiKeyRequest>();
  auto operator_role = std::make_shared<bool>(false);
  CLI::App* key_create = AddCall<v1::CreateApiKeyResponse>(
      *keys, "create", "Create an API key; the secret is printed once", exit_code, common,
      [=](Stub& stub, grpc::ClientContext* context, v1::CreateApiKeyResponse* response) {
        v1::CreateApiKeyRequest request = *key_request;
        request.set_role(*operator_role ? v1::API_KEY_ROLE_OPERATOR : v1::API_KEY_ROLE_CUSTOMER);
        return stub.CreateApiKey(context, request, response);
      },
      [](const v1::CreateApiKeyResponse& response) {
        std::cerr << "key " << response.key().id() << " created; store the secret now\n";
        std::cout << response.secret() << "\n";
      });
  key_create->add_option("tenant_id", *key_request->mutable_tenant_id(), "tenant id")->required();
  key_create->add_flag("--operator", *operator_role, "create an operator key");
  key_create->add_option_function<int64_t>(
      "--ttl", [=](int64_t seconds) { key_request->set_ttl_seconds(seconds); },
      "lifetime in seconds (default: no expiry)");
  auto revoke = std::make_shared<v1::RevokeApiKeyRequest>();
  AddCall<v1::ApiKey>(*keys, "revoke", "Revoke an API key", exit_code, common,
                      [=](Stub& stub, grpc::ClientContext* context, v1::ApiKey* response) {
                        return stub.RevokeApiKey(context, *revoke, response);
                      },
                      [](const v1::ApiKey& key) { std::cout << "revoked " << key.id() << "\n"; })
      ->add_option("key_id", *revoke->mutable_key_id(), "API key id")
      ->required();

  CLI::App* limits = root.add_subcommand("limits", "Set tenant limits");
  limits->require_subcommand(1);
  auto set = std::make_shared<v1::SetTenantLimitsRequest>();
  CLI::App* limits_set = AddCall<v1::Tenant>(
      *limits, "set", "Set a tenant's limits; unset flags keep their value", exit_code, common,
      [=](Stub& stub, grpc::ClientContext* context, v1::Tenant* response) {
        return stub.SetTenantLimits(context, *set, response);
      },
      [](const v1::Tenant& tenant) {
        google::protobuf::RepeatedPtrField<v1::Tenant> list;
        *list.Add() = tenant;
        PrintTenants(list);
      });
  limits_set->add_option("tenant_id", *set->mutable_tenant_id(), "tenant id")->required();
  limits_set->add_option_function<int>(
      "--max-concurrent-jobs", [=](int value) { set->set_max_concurrent_jobs(value); },
      "unfinished jobs at once");
  limits_set->add_option_function<int64_t>(
      "--max-dataset-bytes", [=](int64_t value) { set->set_max_dataset_bytes(value); },
      "total bytes of stored datasets");
}

void AddCatalogCommands(CLI::App& root, int* exit_code) {
  auto common = std::make_shared<Common>();
  CLI::App* models = root.add_subcommand("base-models", "Register base models");
  models->require_subcommand(1);
  auto model = std::make_shared<v1::RegisterBaseModelRequest>();
  model->set_format("llama2c");
  CLI::App* register_model = AddCall<v1::BaseModel>(
      *models, "register", "Register a base model", exit_code, common,
      [=](Stub& stub, grpc::ClientContext* context, v1::BaseModel* response) {
        return stub.RegisterBaseModel(context, *model, response);
      },
      [](const v1::BaseModel& registered) {
        std::cout << "registered " << registered.name() << " (context " << registered.max_seq_len()
                  << " tokens)\n";
      });
  register_model->add_option("name", *model->mutable_name(), "unique name")->required();
  register_model->add_option("--format", *model->mutable_format(), "llama2c (default) or huggingface");
  register_model->add_option("--path", *model->mutable_path(), "model file or folder")->required();
  register_model->add_option("--tokenizer", *model->mutable_tokenizer_path(), "tokenizer file");
  register_model->add_option("--template", *model->mutable_prompt_template(),
                             "built-in template name (alpaca, short) or a template text with "
                             "{prompt} (default: alpaca)");
  register_model->add_option_function<int64_t>(
      "--end-of-answer-token",
      [model](const int64_t& token_id) { model->set_end_of_answer_token_id(token_id); },
      "token id that ends an answer (default: BOS for llama2c, eos_token_id for huggingface)");

  CLI::App* datasets = root.add_subcommand("datasets", "Register operator datasets");
  datasets->require_subcommand(1);
  auto dataset = std::make_shared<v1::RegisterDatasetRequest>();
  auto purpose = std::make_shared<std::string>("alignment");
  CLI::App* register_dataset = AddCall<v1::Dataset>(
      *datasets, "register", "Register an alignment or harmful-eval JSONL file", exit_code, common,
      [=](Stub& stub, grpc::ClientContext* context, v1::Dataset* response) {
        v1::RegisterDatasetRequest request = *dataset;
        request.set_purpose(*purpose == "harmful-eval" ? v1::DATASET_PURPOSE_HARMFUL_EVAL
                                                       : v1::DATASET_PURPOSE_ALIGNMENT);
        return stub.RegisterDataset(context, request, response);
      },
      [](const v1::Dataset& registered) {
        std::cout << registered.id() << " " << registered.record_count() << " records\n";
      });
  register_dataset->add_option("name", *dataset->mutable_name(), "dataset name")->required();
  register_dataset->add_option("--path", *dataset->mutable_path(), "JSONL file on the gateway")->required();
  register_dataset->add_option("--purpose", *purpose, "alignment (default) or harmful-eval")
      ->check(CLI::IsMember({"alignment", "harmful-eval"}));

  CLI::App* teachers = root.add_subcommand("teachers", "Train, list and promote teachers");
  teachers->require_subcommand(1);
  auto teacher_job = std::make_shared<v1::CreateTeacherJobRequest>();
  CLI::App* create = AddCall<v1::Job>(
      *teachers, "create", "Create a teacher-training job", exit_code, common,
      [=](Stub& stub, grpc::ClientContext* context, v1::Job* response) {
        return stub.CreateTeacherJob(context, *teacher_job, response);
      },
      PrintJob);
  create->add_option("--base-model", *teacher_job->mutable_base_model(), "base model")->required();
  create->add_option("--alignment-dataset", *teacher_job->mutable_alignment_dataset_id(),
                     "ALIGNMENT dataset id")->required();
  create->add_option("--harmful-eval-dataset", *teacher_job->mutable_harmful_eval_dataset_id(),
                     "HARMFUL_EVAL dataset id")->required();
  create->add_option("--request-id", *teacher_job->mutable_request_id(), "idempotency key")
      ->required();
  // Unset settings keep the server defaults of TeacherSettings.
  v1::TeacherSettings* settings = teacher_job->mutable_settings();
  create->add_option_function<int>(
      "--epochs", [settings](const int& epochs) { settings->set_epochs(epochs); },
      "passes over the alignment set (default 4)");
  create->add_option_function<double>(
      "--lambda", [settings](const double& weight) { settings->set_lambda(weight); },
      "weight of the refusal-feature regulariser (default 0.1)");
  create->add_option_function<int>(
      "--layer", [settings](const int& layer) { settings->set_layer(layer); },
      "block of the refusal feature (default: the best F1 on the held-out split)");
  create->add_option_function<double>(
      "--threshold", [settings](const double& threshold) { settings->set_threshold(threshold); },
      "filter threshold in [-1, 1] (default: calibrated on the held-out split)");
  create->add_option_function<uint64_t>(
      "--seed", [teacher_job](const uint64_t& seed) { teacher_job->set_seed(seed); },
      "seed of data order and initialisation (default 0)");
  auto list_request = std::make_shared<v1::ListTeachersRequest>();
  AddCall<v1::ListTeachersResponse>(
      *teachers, "list", "List teachers", exit_code, common,
      [=](Stub& stub, grpc::ClientContext* context, v1::ListTeachersResponse* response) {
        return stub.ListTeachers(context, *list_request, response);
      },
      [](const v1::ListTeachersResponse& response) {
        std::vector<std::vector<std::string>> rows;
        for (const v1::Teacher& teacher : response.teachers()) {
          rows.push_back({teacher.id(), teacher.base_model(), absl::StrCat(teacher.layer()),
                          absl::StrCat(teacher.threshold()), teacher.active() ? "yes" : "no"});
        }
        PrintTable({"ID", "BASE MODEL", "LAYER", "THRESHOLD", "ACTIVE"}, rows);
      })
      ->add_option("--base-model", *list_request->mutable_base_model(), "only this base model");
  auto promote = std::make_shared<v1::PromoteTeacherRequest>();
  AddCall<v1::Teacher>(*teachers, "promote", "Make a teacher its base model's active one",
                       exit_code, common,
                       [=](Stub& stub, grpc::ClientContext* context, v1::Teacher* response) {
                         return stub.PromoteTeacher(context, *promote, response);
                       },
                       [](const v1::Teacher& teacher) {
                         std::cout << "promoted " << teacher.id() << "\n";
                       })
      ->add_option("teacher_id", *promote->mutable_teacher_id(), "teacher id")
      ->required();
}

void AddWorkerCommands(CLI::App& root, int* exit_code) {
  auto common = std::make_shared<Common>();
  CLI::App* workers = root.add_subcommand("workers", "Inspect workers");
  workers->require_subcommand(1);
  AddCall<v1::ListWorkersResponse>(
      *workers, "list", "List workers with their last heartbeat", exit_code, common,
      [](Stub& stub, grpc::ClientContext* context, v1::ListWorkersResponse* response) {
        return stub.ListWorkers(context, v1::ListWorkersRequest(), response);
      },
      [](const v1::ListWorkersResponse& response) {
        std::vector<std::vector<std::string>> rows;
        for (const v1::Worker& worker : response.workers()) {
          rows.push_back({worker.id(), worker.host(),
                          FormatTime(worker.last_heartbeat_time().seconds()),
                          worker.job_id().empty() ? "-" : worker.job_id()});
        }
        PrintTable({"ID", "HOST", "LAST HEARTBEAT", "JOB"}, rows);
      });

  CLI::App* jobs = root.add_subcommand("jobs", "Requeue or fail stuck jobs");
  jobs->require_subcommand(1);
  auto requeue = std::make_shared<v1::RequeueJobRequest>();
  CLI::App* requeue_command = AddCall<v1::Job>(
      *jobs, "requeue", "Put a running job back in the queue", exit_code, common,
      [=](Stub& stub, grpc::ClientContext* context, v1::Job* response) {
        return stub.RequeueJob(context, *requeue, response);
      },
      PrintJob);
  requeue_command->add_option("job_id", *requeue->mutable_job_id(), "job id")->required();
  requeue_command->add_option("--reason", *requeue->mutable_reason(), "why, for the event log");
  auto fail = std::make_shared<v1::FailJobRequest>();
  CLI::App* fail_command = AddCall<v1::Job>(
      *jobs, "fail", "Fail a running job", exit_code, common,
      [=](Stub& stub, grpc::ClientContext* context, v1::Job* response) {
        return stub.FailJob(context, *fail, response);
      },
      PrintJob);
  fail_command->add_option("job_id", *fail->mutable_job_id(), "job id")->required();
  fail_command->add_option("--reason", *fail->mutable_reason(), "shown to the customer")
      ->required();
}

}  // namespace

void AddOperatorCommands(CLI::App& app, int* exit_code) {
  CLI::App* root = app.add_subcommand("operator", "Operator commands (need an operator key)");
  root->require_subcommand(1);
  AddTenantCommands(*root, exit_code);
  AddCatalogCommands(*root, exit_code);
  AddWorkerCommands(*root, exit_code);
}

}  // namespace reftune::cli
