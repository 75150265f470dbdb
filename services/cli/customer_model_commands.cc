// Customer subcommands that run a model through the gateway: `screen` scores a dataset's prompts
// without creating a job, and `generate` completes prompts with a finished job's adapter.
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "reftune/v1/customer_service.grpc.pb.h"
#include "services/cli/commands.h"
#include "services/cli/gateway_client.h"

namespace reftune::cli {
namespace {

using Stub = v1::CustomerService::Stub;

struct ScreenFlags {
  CommonFlags common;
  std::string dataset_id;
  std::string base_model;
  std::optional<double> threshold;
  bool filtered_only = false;
};

int RunScreen(const ScreenFlags& flags) {
  return WithStub<v1::CustomerService>("screen", flags.common.client, [&](Stub& stub) {
    v1::ScreenDatasetRequest request;
    request.set_dataset_id(flags.dataset_id);
    request.set_base_model(flags.base_model);
    if (flags.threshold.has_value()) request.set_filter_threshold(*flags.threshold);
    auto context = GatewayCall(flags.common.client, 0);
    auto reader = stub.ScreenDataset(context.get(), request);

    // The responses are merged into one, so --json prints a single object.
    v1::ScreenDatasetResponse all;
    v1::ScreenDatasetResponse response;
    while (reader->Read(&response)) {
      for (const v1::ScreeningRecord& record : response.records()) *all.add_records() = record;
      if (response.has_summary()) *all.mutable_summary() = response.summary();
      if (!response.teacher_id().empty()) all.set_teacher_id(response.teacher_id());
    }
    const grpc::Status status = reader->Finish();
    if (!status.ok()) return PrintRpcError("screen", status);
    if (flags.common.json) {
      PrintJson(all);
      return kExitOk;
    }
    std::vector<std::vector<std::string>> rows;
    for (const v1::ScreeningRecord& record : all.records()) {
      if (flags.filtered_only && !record.filtered()) continue;
      rows.push_back({absl::StrCat(record.line()), absl::StrFormat("%.4f", record.score()),
                      record.filtered() ? "filtered" : "kept"});
    }
    PrintTable({"LINE", "SCORE", "DECISION"}, rows);
    std::cout << all.summary().records_filtered() << " of " << all.summary().records_screened()
              << " records would be filtered at threshold " << all.summary().threshold()
              << " (teacher " << all.teacher_id() << ", layer " << all.summary().layer() << ")\n";
    return kExitOk;
  });
}

struct GenerateFlags {
  CommonFlags common;
  std::string job_id;
  std::vector<std::string> prompts;
  int max_new_tokens = 64;
  double temperature = 0;
  double top_p = 0;
  uint64_t seed = 0;
};

int RunGenerate(const GenerateFlags& flags) {
  return WithStub<v1::CustomerService>("generate", flags.common.client, [&](Stub& stub) {
    v1::GenerateRequest request;
    request.set_job_id(flags.job_id);
    for (const std::string& prompt : flags.prompts) request.add_prompts(prompt);
    request.set_max_new_tokens(flags.max_new_tokens);
    request.set_temperature(flags.temperature);
    request.set_top_p(flags.top_p);
    request.set_seed(flags.seed);
    v1::GenerateResponse response;
    const grpc::Status status =
        stub.Generate(GatewayCall(flags.common.client).get(), request, &response);
    if (!status.ok()) return PrintRpcError("generate", status);
    if (flags.common.json) {
      PrintJson(response);
      return kExitOk;
    }
    for (int i = 0; i < response.completions_size(); ++i) {
      std::cout << "> " << flags.prompts[i] << "\n" << response.completions(i) << "\n\n";
    }
    return kExitOk;
  });
}

}  // namespace

void AddCustomerModelCommands(CLI::App& app, int* exit_code) {
  auto screen_flags = std::make_shared<ScreenFlags>();
  CLI::App* screen = app.add_subcommand(
      "screen", "Score a dataset's prompts with the active teacher, without creating a job");
  AddCommon(*screen, &screen_flags->common);
  screen->add_option("dataset_id", screen_flags->dataset_id, "dataset id")->required();
  screen->add_option("--base-model", screen_flags->base_model,
                     "base model whose active teacher scores the prompts")
      ->required();
  screen->add_option("--threshold", screen_flags->threshold,
                     "cosine-similarity threshold in [-1, 1] (default: the teacher's calibrated one)");
  screen->add_flag("--filtered-only", screen_flags->filtered_only,
                   "list only the records that would be filtered (table output)");
  screen->callback([=] { *exit_code = RunScreen(*screen_flags); });

  auto generate_flags = std::make_shared<GenerateFlags>();
  CLI::App* generate =
      app.add_subcommand("generate", "Generate answers with a finished job's adapter");
  AddCommon(*generate, &generate_flags->common);
  generate->add_option("job_id", generate_flags->job_id, "a SUCCEEDED finetuning job")->required();
  generate->add_option("prompts", generate_flags->prompts, "1 to 16 prompts")->required();
  generate->add_option("--max-new-tokens", generate_flags->max_new_tokens,
                       "tokens to generate per prompt, 1 to 512")
      ->capture_default_str();
  generate->add_option("--temperature", generate_flags->temperature,
                       "sampling temperature; 0 is greedy decoding")
      ->capture_default_str();
  generate->add_option("--top-p", generate_flags->top_p, "nucleus sampling mass; 0 means 1")
      ->capture_default_str();
  generate->add_option("--seed", generate_flags->seed, "sampling seed")->capture_default_str();
  generate->callback([=] { *exit_code = RunGenerate(*generate_flags); });
}

}  // namespace reftune::cli
