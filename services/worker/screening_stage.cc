#include "services/worker/screening_stage.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/common/status_macros.h"
#include "glog/logging.h"

namespace reftune::worker {

absl::StatusOr<ScreeningOutcome> ScreenRecords(JobRun& run, const store::TeacherRecord& teacher,
                                               const std::vector<data::Record>& records,
                                               std::optional<double> threshold) {
  std::vector<std::string> prompts;
  prompts.reserve(records.size());
  for (const data::Record& record : records) prompts.push_back(record.prompt);

  const absl::Time deadline =
      std::min(run.deadline(), absl::Now() + run.options().screening_deadline);
  REFTUNE_ASSIGN_OR_RETURN(PromptScores scores,
                           run.services().scorer->Score(teacher, prompts, threshold, deadline));

  ScreeningOutcome outcome;
  outcome.filtered = scores.filtered;
  outcome.threshold = scores.threshold;
  outcome.layer = scores.layer;
  std::vector<store::ScreeningResult> results;
  results.reserve(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    store::ScreeningResult result;
    result.record_index = static_cast<int64_t>(i);
    result.line = records[i].line > 0 ? records[i].line : static_cast<int64_t>(i) + 1;
    result.score = scores.cosine_similarities[i];
    result.filtered = scores.filtered[i];
    if (result.filtered) ++outcome.filtered_count;
    results.push_back(result);
  }
  REFTUNE_RETURN_IF_ERROR(run.services().screening->ReplaceResults(run.job().id, results));

  const nlohmann::json summary = {{"records_screened", static_cast<int64_t>(records.size())},
                                  {"records_filtered", outcome.filtered_count},
                                  {"threshold", outcome.threshold},
                                  {"layer", outcome.layer}};
  REFTUNE_RETURN_IF_ERROR(run.AppendEvent(kScreeningSummaryEvent, summary));
  LOG(INFO) << "job " << run.job().id << " screened " << records.size() << " records with teacher "
            << teacher.id << ": " << outcome.filtered_count << " filtered at threshold "
            << outcome.threshold;
  return outcome;
}

}  // namespace reftune::worker
