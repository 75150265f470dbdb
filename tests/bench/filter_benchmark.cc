// Filter service benchmark: prompts/s scored through the gRPC FilterService on 127.0.0.1 (unary
// calls, one stream, and several concurrent clients) against PromptFilter::Score called directly,
// all in batches of --batch-size prompts. The teacher is a LoRA adapter with random lora_B values
// and a random refusal feature: the cost of scoring does not depend on their values.
// Prints a table; run by hand:
//   build/tests/bench/filter_benchmark --data-dir ../shared/data --prompts 1024
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "core/data/jsonl.h"
#include "core/method/prompt_filter.h"
#include "core/method/teacher_artifact.h"
#include "core/model/torch_threads.h"
#include "glog/logging.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "reftune/v1/filter_service.grpc.pb.h"
#include "services/filter/filter_server.h"
#include "services/filter/folder_teacher_resolver.h"

namespace {

using Clock = std::chrono::steady_clock;
using reftune::filter::BaseModelSpec;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// BeaverTails prompts followed by Alpaca instructions, repeated up to `count`.
std::vector<std::string> LoadPrompts(const std::string& data_dir, size_t count) {
  std::vector<std::string> pool;
  auto harmful = reftune::data::ReadJsonLinesFile(data_dir +
                                                  "/beavertails_spard/beaverTails_train.jsonl");
  if (harmful.ok()) {
    for (size_t i = 0; i < harmful->size() && i < count / 2; ++i) {
      pool.push_back((*harmful)[i].at("prompt").get<std::string>());
    }
  }
  auto harmless = reftune::data::ReadJsonFile(data_dir + "/alpaca_en_demo/alpaca_en_demo.json");
  if (harmless.ok()) {
    for (size_t i = 0; i < harmless->size() && i < count / 2; ++i) {
      pool.push_back((*harmless)[i].at("instruction").get<std::string>());
    }
  }
  std::vector<std::string> prompts;
  for (size_t i = 0; !pool.empty() && i < count; ++i) prompts.push_back(pool[i % pool.size()]);
  return prompts;
}

// Saves a teacher with a random adapter and refusal feature under `folder`.
absl::Status SaveRandomTeacher(const std::string& folder, const BaseModelSpec& spec) {
  auto checkpoint = reftune::filter::LoadBaseCheckpoint(spec);
  if (!checkpoint.ok()) return checkpoint.status();
  auto model = reftune::model::CreateTransformer(*checkpoint, torch::kCPU);
  if (!model.ok()) return model.status();

  reftune::method::TeacherArtifact teacher;
  teacher.lora.r = 16;
  teacher.lora.lora_alpha = 32;
  if (auto status = (*model)->AddAdapter("teacher", teacher.lora, 7); !status.ok()) return status;
  auto tensors = (*model)->ExportAdapter("teacher");
  if (!tensors.ok()) return tensors.status();
  torch::manual_seed(7);
  for (auto& [key, tensor] : *tensors) tensor = torch::randn(tensor.sizes()) * 0.05;
  teacher.adapter_tensors = *tensors;
  teacher.layer = 2;
  teacher.refusal_feature = torch::randn({checkpoint->config.dim});
  teacher.threshold = 0.0;
  if (auto status = reftune::method::SaveTeacher(folder, teacher); !status.ok()) return status;
  return reftune::filter::WriteBaseModelFile(folder, spec);
}

std::vector<std::vector<std::string>> Batches(const std::vector<std::string>& prompts,
                                              size_t batch_size) {
  std::vector<std::vector<std::string>> batches;
  for (size_t start = 0; start < prompts.size(); start += batch_size) {
    const size_t end = std::min(prompts.size(), start + batch_size);
    batches.emplace_back(prompts.begin() + start, prompts.begin() + end);
  }
  return batches;
}

reftune::v1::ScorePromptsRequest Request(const std::vector<std::string>& batch) {
  reftune::v1::ScorePromptsRequest request;
  request.set_teacher_id("bench");
  for (const std::string& prompt : batch) request.add_prompts(prompt);
  return request;
}

double DirectSeconds(const std::string& teacher_folder, const BaseModelSpec& spec,
                     const std::vector<std::vector<std::string>>& batches) {
  auto checkpoint = reftune::filter::LoadBaseCheckpoint(spec);
  auto model = reftune::model::CreateTransformer(*checkpoint, torch::kCPU);
  (*model)->eval();
  auto teacher = reftune::method::LoadTeacher(teacher_folder);
  CHECK(reftune::method::InstallTeacherAdapter(*model, *teacher, "teacher").ok());
  reftune::method::PromptFilterOptions options;
  options.adapter = "teacher";
  options.batch_size = static_cast<int64_t>(batches.front().size());
  reftune::method::PromptFilter filter(*model, checkpoint->tokenizer, *teacher, options);
  CHECK(filter.Score(batches.front()).ok());  // Warm-up.

  const auto start = Clock::now();
  for (const auto& batch : batches) CHECK(filter.Score(batch).ok());
  return Seconds(start);
}

double UnarySeconds(reftune::v1::FilterService::Stub& stub,
                    const std::vector<std::vector<std::string>>& batches, int clients) {
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int client = 0; client < clients; ++client) {
    threads.emplace_back([&, client] {
      for (size_t i = client; i < batches.size(); i += clients) {
        grpc::ClientContext context;
        reftune::v1::ScorePromptsResponse response;
        const grpc::Status status = stub.ScorePrompts(&context, Request(batches[i]), &response);
        CHECK(status.ok()) << status.error_message();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  return Seconds(start);
}

double StreamSeconds(reftune::v1::FilterService::Stub& stub,
                     const std::vector<std::vector<std::string>>& batches) {
  const auto start = Clock::now();
  grpc::ClientContext context;
  auto stream = stub.StreamScorePrompts(&context);
  std::thread writer([&] {
    for (const auto& batch : batches) CHECK(stream->Write(Request(batch)));
    stream->WritesDone();
  });
  reftune::v1::ScorePromptsResponse response;
  size_t read = 0;
  while (stream->Read(&response)) ++read;
  writer.join();
  CHECK(stream->Finish().ok());
  CHECK_EQ(read, batches.size());
  return Seconds(start);
}

}  // namespace

int main(int argc, char** argv) {
  google::InitGoogleLogging(argv[0]);
  FLAGS_logtostderr = true;
  FLAGS_minloglevel = 1;

  CLI::App app{"filter service throughput against direct PromptFilter calls"};
  std::string data_dir = "../shared/data";
  size_t prompt_count = 1024;
  size_t batch_size = 64;
  int model_threads = 1;
  int intra_op_threads = 1;
  int clients = 4;
  app.add_option("--data-dir", data_dir, "folder with stories260K and the public data sets");
  app.add_option("--prompts", prompt_count, "prompts scored per mode")->capture_default_str();
  app.add_option("--batch-size", batch_size, "prompts per request and per Score call")
      ->capture_default_str();
  app.add_option("--model-threads", model_threads, "filter service model threads")
      ->capture_default_str();
  app.add_option("--intra-op-threads", intra_op_threads, "LibTorch intra-op threads")
      ->capture_default_str();
  app.add_option("--clients", clients, "concurrent clients in the concurrent mode")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  reftune::model::ConfigureTorchThreads(intra_op_threads);

  BaseModelSpec spec;
  spec.name = "stories260K";
  spec.format = "llama2c";
  spec.path = std::filesystem::absolute(data_dir + "/stories260K/stories260K.bin").string();
  spec.tokenizer_path = std::filesystem::absolute(data_dir + "/stories260K/tok512.bin").string();
  const std::filesystem::path root = std::filesystem::temp_directory_path() /
                                     absl::StrCat("reftune-filter-bench-", getpid());
  const std::string teacher_folder = (root / "bench").string();
  if (auto status = SaveRandomTeacher(teacher_folder, spec); !status.ok()) {
    std::fprintf(stderr, "building the teacher failed: %s\n", status.ToString().c_str());
    return 1;
  }
  const std::vector<std::string> prompts = LoadPrompts(data_dir, prompt_count);
  if (prompts.empty()) {
    std::fprintf(stderr, "no prompts found under %s\n", data_dir.c_str());
    return 1;
  }
  const auto batches = Batches(prompts, batch_size);

  reftune::filter::FilterServerOptions options;
  options.grpc.listen_address = "127.0.0.1:0";
  options.teacher_root = root.string();
  options.executor.threads = model_threads;
  options.teachers.batch_size = static_cast<int64_t>(batch_size);
  auto server = reftune::filter::FilterServer::Start(options, nullptr);
  if (!server.ok()) {
    std::fprintf(stderr, "starting the filter service failed: %s\n",
                 server.status().ToString().c_str());
    return 1;
  }
  auto stub = reftune::v1::FilterService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", (*server)->port()), grpc::InsecureChannelCredentials()));
  UnarySeconds(*stub, {batches.front()}, 1);  // Loads the teacher and warms up.

  struct Row {
    std::string mode;
    double seconds;
  };
  std::vector<Row> rows;
  rows.push_back({"PromptFilter::Score, in-process", DirectSeconds(teacher_folder, spec, batches)});
  rows.push_back({"ScorePrompts, 1 client", UnarySeconds(*stub, batches, 1)});
  rows.push_back({absl::StrCat("ScorePrompts, ", clients, " clients"),
                  UnarySeconds(*stub, batches, clients)});
  rows.push_back({"StreamScorePrompts, 1 stream", StreamSeconds(*stub, batches)});
  (*server)->Shutdown();
  std::filesystem::remove_all(root);

  std::printf("prompts %zu, batch %zu, model threads %d, intra-op threads %d\n\n", prompts.size(),
              batch_size, model_threads, intra_op_threads);
  std::printf("| mode | seconds | prompts/s | vs direct |\n|---|---|---|---|\n");
  for (const Row& row : rows) {
    std::printf("| %s | %.3f | %.0f | %.2f |\n", row.mode.c_str(), row.seconds,
                prompts.size() / row.seconds, rows.front().seconds / row.seconds);
  }
  return 0;
}
