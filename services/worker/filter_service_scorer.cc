// PromptScorer over the filter service's bidirectional stream.
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/client_context.h"
#include "reftune/v1/filter_service.grpc.pb.h"
#include "services/common/status_conversion.h"
#include "services/worker/prompt_scorer.h"

namespace reftune::worker {
namespace {

constexpr int kMaxBatchSize = 1024;

class FilterServiceScorer : public PromptScorer {
 public:
  FilterServiceScorer(std::shared_ptr<grpc::Channel> channel, int batch_size)
      : stub_(v1::FilterService::NewStub(channel)),
        batch_size_(std::clamp(batch_size, 1, kMaxBatchSize)) {}

  absl::StatusOr<PromptScores> Score(const store::TeacherRecord& teacher,
                                     const std::vector<std::string>& prompts,
                                     std::optional<double> threshold,
                                     absl::Time deadline) override {
    PromptScores scores;
    if (prompts.empty()) return scores;

    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(deadline));
    auto stream = stub_->StreamScorePrompts(&context);

    // One request per batch, each answered in order; reading right after writing keeps at most
    // one batch in flight, which bounds the memory on both sides.
    for (size_t begin = 0; begin < prompts.size(); begin += batch_size_) {
      const size_t end = std::min(prompts.size(), begin + batch_size_);
      v1::ScorePromptsRequest request;
      request.set_teacher_id(teacher.id);
      if (threshold.has_value()) request.set_threshold(*threshold);
      for (size_t i = begin; i < end; ++i) request.add_prompts(prompts[i]);

      v1::ScorePromptsResponse response;
      if (!stream->Write(request) || !stream->Read(&response)) break;
      if (response.scores_size() != static_cast<int>(end - begin)) {
        stream->WritesDone();
        stream->Finish();
        return absl::InternalError(absl::StrCat("filter service returned ",
                                                response.scores_size(), " scores for ",
                                                end - begin, " prompts of teacher ", teacher.id));
      }
      for (const v1::PromptScore& score : response.scores()) {
        scores.cosine_similarities.push_back(score.cosine_similarity());
        scores.filtered.push_back(score.harmful());
      }
      scores.threshold = response.threshold();
      scores.layer = response.layer();
    }

    stream->WritesDone();
    const grpc::Status finished = stream->Finish();
    if (!finished.ok()) {
      absl::Status status = services::FromGrpcStatus(finished);
      return absl::Status(status.code(), absl::StrCat("scoring prompts of teacher ", teacher.id,
                                                      " through the filter service failed: ",
                                                      status.message()));
    }
    if (scores.cosine_similarities.size() != prompts.size()) {
      return absl::UnavailableError(absl::StrCat("filter service stream for teacher ", teacher.id,
                                                 " ended after ", scores.cosine_similarities.size(),
                                                 " of ", prompts.size(), " prompts"));
    }
    return scores;
  }

 private:
  std::unique_ptr<v1::FilterService::Stub> stub_;
  const size_t batch_size_;
};

}  // namespace

std::unique_ptr<PromptScorer> NewFilterServiceScorer(std::shared_ptr<grpc::Channel> channel,
                                                     int batch_size) {
  return std::make_unique<FilterServiceScorer>(std::move(channel), batch_size);
}

}  // namespace reftune::worker
