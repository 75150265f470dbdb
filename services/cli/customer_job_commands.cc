// Customer job subcommands: jobs create|get|list|watch|cancel|events, screening-report,
// download and base-models list.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "reftune/v1/customer_service.grpc.pb.h"
#include "services/cli/commands.h"
#include "services/cli/gateway_client.h"

namespace reftune::cli {
namespace {

using Stub = v1::CustomerService::Stub;

std::string StateName(v1::JobState state) {
  return v1::JobState_Name(state).substr(std::string("JOB_STATE_").size());
}

void PrintJobs(const google::protobuf::RepeatedPtrField<v1::Job>& jobs) {
  std::vector<std::vector<std::string>> rows;
  for (const v1::Job& job : jobs) {
    const std::string step = job.progress().total_steps() > 0
                                 ? absl::StrCat(job.progress().step(), "/", job.progress().total_steps())
                                 : "-";
    rows.push_back({job.id(), StateName(job.state()), job.base_model(),
                    v1::SafetyMode_Name(job.safety_mode()).substr(12), step,
                    FormatTime(job.create_time().seconds())});
  }
  PrintTable({"ID", "STATE", "BASE MODEL", "MODE", "STEP", "CREATED"}, rows);
}

// One line per event, or a progress bar redrawn in place on a terminal.
void PrintEvent(const v1::JobEvent& event, bool terminal) {
  if (event.has_progress() && terminal && event.progress().total_steps() > 0) {
    const double fraction =
        static_cast<double>(event.progress().step()) / event.progress().total_steps();
    const int filled = static_cast<int>(fraction * 30);
    std::cout << "\r[" << std::string(filled, '#') << std::string(30 - filled, ' ') << "] "
              << event.progress().step() << "/" << event.progress().total_steps() << " loss "
              << absl::StrFormat("%.4f", event.progress().loss()) << std::flush;
    return;
  }
  if (terminal) std::cout << "\n";
  std::cout << "#" << event.sequence() << " " << FormatTime(event.time().seconds()) << " ";
  if (event.has_state_change()) {
    std::cout << StateName(event.state_change().from()) << " -> "
              << StateName(event.state_change().to());
    if (!event.state_change().reason().empty()) std::cout << " (" << event.state_change().reason() << ")";
  } else if (event.has_progress()) {
    std::cout << "step " << event.progress().step() << "/" << event.progress().total_steps()
              << " loss " << event.progress().loss();
  } else if (event.has_evaluation()) {
    // The proto carries shares in [0, 1]; people read percentages.
    const v1::EvaluationResults& evaluation = event.evaluation();
    std::cout << "evaluation:";
    if (evaluation.has_harmful_score_strict()) {
      std::cout << absl::StrFormat(" harmful score strict %.1f%%",
                                   100 * evaluation.harmful_score_strict());
    }
    if (evaluation.has_harmful_score_content()) {
      std::cout << absl::StrFormat(", content %.1f%% of %d prompts",
                                   100 * evaluation.harmful_score_content(),
                                   evaluation.harmful_prompts());
    }
    if (evaluation.has_label_accuracy()) {
      std::cout << absl::StrFormat("; label accuracy %.1f%%", 100 * evaluation.label_accuracy());
    }
    if (evaluation.has_validation_loss()) {
      std::cout << absl::StrFormat("; validation loss %.4f", evaluation.validation_loss());
    }
  } else {
    std::cout << event.message();
  }
  // Flushed per event, so that a log file or pipe shows each event when it happens.
  std::cout << std::endl;
}

struct CreateFlags {
  Common common;
  std::string dataset_id;
  std::string validation_dataset_id;
  std::string base_model;
  std::string mode = "ref-teacher";
  std::string request_id;
  std::string suffix;
  uint64_t seed = 0;
  int epochs = 0;
  int lora_r = 0;
  int batch_size = 0;
  int max_seq_len = 0;
  double learning_rate = 0;
  bool skip_overlong = false;
};

int RunCreate(const CreateFlags& flags) {
  v1::CreateJobRequest request;
  request.set_dataset_id(flags.dataset_id);
  request.set_validation_dataset_id(flags.validation_dataset_id);
  request.set_base_model(flags.base_model);
  std::string mode_name = flags.mode;
  for (char& c : mode_name) c = c == '-' ? '_' : static_cast<char>(toupper(c));
  v1::SafetyMode mode;
  if (!v1::SafetyMode_Parse("SAFETY_MODE_" + mode_name, &mode)) {
    std::cerr << "reftune jobs create: --mode must be ref-teacher, sft, aligned-sft, filter-only "
                 "or distill-only, got \"" << flags.mode << "\"\n";
    return kExitUsage;
  }
  request.set_safety_mode(mode);
  request.set_request_id(flags.request_id.empty()
                             ? absl::StrCat("cli-", getpid(), "-", time(nullptr))
                             : flags.request_id);
  request.set_suffix(flags.suffix);
  request.set_seed(flags.seed);
  v1::Hyperparameters* hyperparameters = request.mutable_hyperparameters();
  if (flags.epochs != 0) hyperparameters->set_epochs(flags.epochs);
  if (flags.lora_r != 0) hyperparameters->set_lora_r(flags.lora_r);
  if (flags.batch_size != 0) hyperparameters->set_batch_size(flags.batch_size);
  if (flags.max_seq_len != 0) hyperparameters->set_max_seq_len(flags.max_seq_len);
  if (flags.learning_rate != 0) hyperparameters->set_learning_rate(flags.learning_rate);
  if (flags.skip_overlong) hyperparameters->set_overlong_records(v1::OVERLONG_RECORDS_SKIP);

  return WithStub<v1::CustomerService>("jobs create", flags.common.client, [&](Stub& stub) {
    v1::Job job;
    const grpc::Status status = stub.CreateJob(GatewayCall(flags.common.client).get(), request, &job);
    if (!status.ok()) return PrintRpcError("jobs create", status);
    google::protobuf::RepeatedPtrField<v1::Job> jobs;
    *jobs.Add() = job;
    flags.common.json ? PrintJson(job) : PrintJobs(jobs);
    return kExitOk;
  });
}

void AddCreate(CLI::App& jobs, int* exit_code) {
  auto flags = std::make_shared<CreateFlags>();
  CLI::App* create = jobs.add_subcommand("create", "Create a finetuning job");
  AddCommon(*create, &flags->common);
  create->add_option("--dataset", flags->dataset_id, "training dataset id")->required();
  create->add_option("--validation-dataset", flags->validation_dataset_id, "validation dataset id");
  create->add_option("--base-model", flags->base_model, "base model name")->required();
  create->add_option("--mode", flags->mode,
                     "ref-teacher (default), sft, aligned-sft, filter-only or distill-only");
  create->add_option("--request-id", flags->request_id,
                     "idempotency key; a rerun with the same key returns the same job "
                     "(default: generated)");
  create->add_option("--suffix", flags->suffix, "adapter name suffix, [a-z0-9-], up to 40");
  create->add_option("--seed", flags->seed, "seed (default 1)");
  create->add_option("--epochs", flags->epochs, "passes over the data, 1 to 100 (default 5)");
  create->add_option("--lora-r", flags->lora_r, "LoRA rank, 1 to 256 (default 16)");
  create->add_option("--batch-size", flags->batch_size, "rows per step, 1 to 512 (default 16)");
  create->add_option("--max-seq-len", flags->max_seq_len, "tokens per row (default 256)");
  create->add_option("--learning-rate", flags->learning_rate, "peak AdamW rate (default 3e-3)");
  create->add_flag("--skip-overlong", flags->skip_overlong,
                   "skip records over --max-seq-len instead of rejecting the job");
  create->callback([=] { *exit_code = RunCreate(*flags); });
}

int RunWatch(const Common& common, const std::string& job_id) {
  return WithStub<v1::CustomerService>("jobs watch", common.client, [&](Stub& stub) {
    auto context = GatewayCall(common.client, 0);
    v1::WatchJobRequest request;
    request.set_job_id(job_id);
    auto reader = stub.WatchJob(context.get(), request);
    const bool terminal = !common.json && isatty(STDOUT_FILENO);
    v1::JobEvent event;
    v1::JobState last = v1::JOB_STATE_UNSPECIFIED;
    while (reader->Read(&event)) {
      if (event.has_state_change()) last = event.state_change().to();
      if (common.json) {
        PrintJson(event);
        std::cout.flush();
      } else {
        PrintEvent(event, terminal);
      }
    }
    const grpc::Status status = reader->Finish();
    if (!status.ok()) return PrintRpcError("jobs watch", status);
    return last == v1::JOB_STATE_SUCCEEDED ? kExitOk : kExitFailure;
  });
}

int RunDownload(const Common& common, const std::string& job_id, const std::string& out_dir) {
  std::error_code error;
  std::filesystem::create_directories(out_dir, error);
  if (error) {
    std::cerr << "reftune download: cannot create " << out_dir << ": " << error.message() << "\n";
    return kExitFailure;
  }
  return WithStub<v1::CustomerService>("download", common.client, [&](Stub& stub) {
    auto context = GatewayCall(common.client, 0);
    v1::DownloadArtifactRequest request;
    request.set_job_id(job_id);
    auto reader = stub.DownloadArtifact(context.get(), request);
    std::map<std::string, std::ofstream> files;
    v1::ArtifactChunk chunk;
    while (reader->Read(&chunk)) {
      // Only the base name is used, so a server cannot write outside out_dir.
      const std::string name = std::filesystem::path(chunk.file_name()).filename().string();
      auto it = files.find(name);
      if (it == files.end()) {
        it = files.emplace(name, std::ofstream((std::filesystem::path(out_dir) / name).string(),
                                               std::ios::binary)).first;
      }
      it->second << chunk.data();
      if (chunk.last()) std::cout << (std::filesystem::path(out_dir) / name).string() << "\n";
    }
    const grpc::Status status = reader->Finish();
    if (!status.ok()) return PrintRpcError("download", status);
    return kExitOk;
  });
}

}  // namespace

void AddCustomerJobCommands(CLI::App& app, int* exit_code) {
  CLI::App* jobs = app.add_subcommand("jobs", "Create, inspect, watch and cancel jobs");
  jobs->require_subcommand(1);
  AddCreate(*jobs, exit_code);
  auto common = std::make_shared<Common>();
  auto id = std::make_shared<std::string>();

  CLI::App* get = jobs->add_subcommand("get", "Show one job");
  AddCommon(*get, common.get());
  get->add_option("job_id", *id, "job id")->required();
  get->callback([=] {
    *exit_code = WithStub<v1::CustomerService>("jobs get", common->client, [&](Stub& stub) {
      v1::GetJobRequest request;
      request.set_job_id(*id);
      v1::Job job;
      const grpc::Status status = stub.GetJob(GatewayCall(common->client).get(), request, &job);
      if (!status.ok()) return PrintRpcError("jobs get", status);
      google::protobuf::RepeatedPtrField<v1::Job> jobs;
      *jobs.Add() = job;
      common->json ? PrintJson(job) : PrintJobs(jobs);
      if (!common->json && !job.failure_reason().empty()) std::cout << "failure: " << job.failure_reason() << "\n";
      return kExitOk;
    });
  });

  CLI::App* list = jobs->add_subcommand("list", "List your jobs, newest first");
  AddCommon(*list, common.get());
  list->callback([=] {
    *exit_code = WithStub<v1::CustomerService>("jobs list", common->client, [&](Stub& stub) {
      v1::ListJobsRequest request;
      v1::ListJobsResponse all;
      do {
        v1::ListJobsResponse response;
        const grpc::Status status = stub.ListJobs(GatewayCall(common->client).get(), request, &response);
        if (!status.ok()) return PrintRpcError("jobs list", status);
        for (const v1::Job& job : response.jobs()) *all.add_jobs() = job;
        request.set_page_token(response.next_page_token());
      } while (!request.page_token().empty());
      common->json ? PrintJson(all) : PrintJobs(all.jobs());
      return kExitOk;
    });
  });

  CLI::App* watch = jobs->add_subcommand(
      "watch", "Follow a job's events until it finishes; exit 0 only when it SUCCEEDED");
  AddCommon(*watch, common.get());
  watch->add_option("job_id", *id, "job id")->required();
  watch->callback([=] { *exit_code = RunWatch(*common, *id); });

  CLI::App* cancel = jobs->add_subcommand("cancel", "Cancel a queued or running job");
  AddCommon(*cancel, common.get());
  cancel->add_option("job_id", *id, "job id")->required();
  cancel->callback([=] {
    *exit_code = WithStub<v1::CustomerService>("jobs cancel", common->client, [&](Stub& stub) {
      v1::CancelJobRequest request;
      request.set_job_id(*id);
      v1::Job job;
      const grpc::Status status = stub.CancelJob(GatewayCall(common->client).get(), request, &job);
      if (!status.ok()) return PrintRpcError("jobs cancel", status);
      common->json ? PrintJson(job) : void(std::cout << job.id() << " " << StateName(job.state()) << "\n");
      return kExitOk;
    });
  });

  CLI::App* events = jobs->add_subcommand("events", "Print a job's event log");
  AddCommon(*events, common.get());
  events->add_option("job_id", *id, "job id")->required();
  events->callback([=] {
    *exit_code = WithStub<v1::CustomerService>("jobs events", common->client, [&](Stub& stub) {
      v1::ListJobEventsRequest request;
      request.set_job_id(*id);
      do {
        v1::ListJobEventsResponse response;
        const grpc::Status status = stub.ListJobEvents(GatewayCall(common->client).get(), request, &response);
        if (!status.ok()) return PrintRpcError("jobs events", status);
        for (const v1::JobEvent& event : response.events()) {
          common->json ? PrintJson(event) : PrintEvent(event, false);
        }
        request.set_page_token(response.next_page_token());
      } while (!request.page_token().empty());
      return kExitOk;
    });
  });

  CLI::App* report = app.add_subcommand("screening-report", "Per-record filter scores of a job");
  AddCommon(*report, common.get());
  report->add_option("job_id", *id, "job id")->required();
  auto filtered_only = std::make_shared<bool>(false);
  report->add_flag("--filtered-only", *filtered_only, "list only the filtered records");
  report->callback([=] {
    *exit_code = WithStub<v1::CustomerService>("screening-report", common->client, [&](Stub& stub) {
      v1::GetScreeningReportRequest request;
      request.set_job_id(*id);
      request.set_filtered_only(*filtered_only);
      v1::GetScreeningReportResponse all;
      do {
        v1::GetScreeningReportResponse response;
        const grpc::Status status = stub.GetScreeningReport(GatewayCall(common->client).get(), request, &response);
        if (!status.ok()) return PrintRpcError("screening-report", status);
        *all.mutable_summary() = response.summary();
        for (const v1::ScreeningRecord& record : response.records()) *all.add_records() = record;
        request.set_page_token(response.next_page_token());
      } while (!request.page_token().empty());
      if (common->json) {
        PrintJson(all);
        return kExitOk;
      }
      std::vector<std::vector<std::string>> rows;
      for (const v1::ScreeningRecord& record : all.records()) {
        rows.push_back({absl::StrCat(record.line()), absl::StrFormat("%.4f", record.score()),
                        record.filtered() ? "filtered" : "kept"});
      }
      PrintTable({"LINE", "SCORE", "DECISION"}, rows);
      std::cout << all.summary().records_filtered() << " of " << all.summary().records_screened()
                << " records filtered at threshold " << all.summary().threshold() << "\n";
      return kExitOk;
    });
  });

  auto out_dir = std::make_shared<std::string>();
  CLI::App* download = app.add_subcommand("download", "Download a finished job's adapter files");
  AddCommon(*download, common.get());
  download->add_option("job_id", *id, "job id")->required();
  download->add_option("--out", *out_dir, "folder to write the files into")->required();
  download->callback([=] { *exit_code = RunDownload(*common, *id, *out_dir); });

  CLI::App* models = app.add_subcommand("base-models", "Registered base models");
  models->require_subcommand(1);
  CLI::App* models_list = models->add_subcommand("list", "List the base models");
  AddCommon(*models_list, common.get());
  models_list->callback([=] {
    *exit_code = WithStub<v1::CustomerService>("base-models list", common->client, [&](Stub& stub) {
      v1::ListBaseModelsResponse response;
      const grpc::Status status = stub.ListBaseModels(GatewayCall(common->client).get(), v1::ListBaseModelsRequest(), &response);
      if (!status.ok()) return PrintRpcError("base-models list", status);
      if (common->json) {
        PrintJson(response);
        return kExitOk;
      }
      std::vector<std::vector<std::string>> rows;
      for (const v1::BaseModel& model : response.base_models()) {
        rows.push_back({model.name(), model.format(), absl::StrCat(model.max_seq_len()),
                        model.active_teacher_id().empty() ? "-" : model.active_teacher_id()});
      }
      PrintTable({"NAME", "FORMAT", "CONTEXT", "ACTIVE TEACHER"}, rows);
      return kExitOk;
    });
  });
}

}  // namespace reftune::cli
