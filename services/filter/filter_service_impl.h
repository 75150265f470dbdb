// The gRPC FilterService: prompt scoring against a teacher's refusal feature and generation with
// finetuned adapters, both run on the model executor.
#ifndef REFTUNE_SERVICES_FILTER_FILTER_SERVICE_IMPL_H_
#define REFTUNE_SERVICES_FILTER_FILTER_SERVICE_IMPL_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "core/metrics/metrics.h"
#include "grpcpp/server_context.h"
#include "reftune/v1/filter_service.grpc.pb.h"
#include "services/filter/adapter_generator.h"
#include "services/filter/model_executor.h"
#include "services/filter/model_resolvers.h"
#include "services/filter/teacher_cache.h"

namespace reftune::filter {

struct FilterServiceOptions {
  // Prompts per ScorePrompts request, at least 1; the API fixes 1024.
  int max_prompts_per_request = 1024;
  // Bytes per scored prompt at most; longer prompts are rejected, not truncated. Default 64 KiB.
  size_t max_prompt_bytes = 64 * 1024;
  // GenerateWithAdapter's max_new_tokens when the request leaves it 0.
  int64_t default_max_new_tokens = 64;
};

// Handlers validate the request, queue the model work, wait for it while honouring the call's
// deadline and cancellation, record metrics and convert the status, in that order. Thread-safe.
class FilterServiceImpl final : public reftune::v1::FilterService::Service {
 public:
  // None of the pointers is owned; all must outlive the service. `base_models` may be null, and
  // GenerateWithAdapter then fails with FAILED_PRECONDITION; `metrics` may be null.
  FilterServiceImpl(ModelExecutor* executor, TeacherCache* teachers, AdapterGenerator* generator,
                    const BaseModelResolver* base_models, metrics::Metrics* metrics,
                    FilterServiceOptions options = {});

  grpc::Status ScorePrompts(grpc::ServerContext* context,
                            const reftune::v1::ScorePromptsRequest* request,
                            reftune::v1::ScorePromptsResponse* response) override;

  grpc::Status StreamScorePrompts(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<reftune::v1::ScorePromptsResponse,
                               reftune::v1::ScorePromptsRequest>* stream) override;

  grpc::Status GenerateWithAdapter(grpc::ServerContext* context,
                                   const reftune::v1::GenerateWithAdapterRequest* request,
                                   reftune::v1::GenerateWithAdapterResponse* response) override;

 private:
  absl::Status ValidateScoreRequest(const reftune::v1::ScorePromptsRequest& request) const;
  absl::Status ScoreBatch(grpc::ServerContext* context,
                          const reftune::v1::ScorePromptsRequest& request,
                          reftune::v1::ScorePromptsResponse* response);
  absl::Status Generate(grpc::ServerContext* context,
                        const reftune::v1::GenerateWithAdapterRequest& request,
                        reftune::v1::GenerateWithAdapterResponse* response);
  void RecordDecision(double cosine, bool harmful);

  ModelExecutor* executor_;
  TeacherCache* teachers_;
  AdapterGenerator* generator_;
  const BaseModelResolver* base_models_;
  metrics::Metrics* metrics_;
  const FilterServiceOptions options_;
};

}  // namespace reftune::filter

#endif  // REFTUNE_SERVICES_FILTER_FILTER_SERVICE_IMPL_H_
