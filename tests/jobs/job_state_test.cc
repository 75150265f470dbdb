#include "core/jobs/job_state.h"

#include <set>
#include <string>
#include <utility>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace reftune::jobs {
namespace {

using ::testing::HasSubstr;

constexpr JobState kAllStates[] = {
    JobState::kQueued,    JobState::kScreening, JobState::kTraining,
    JobState::kEvaluating, JobState::kExporting, JobState::kSucceeded,
    JobState::kFailed,    JobState::kCancelled, JobState::kCancelling,
};

using Move = std::pair<JobState, JobState>;

// The legal moves, written out by hand from the documented lifecycle.
std::set<Move> LegalMoves(JobKind kind) {
  using S = JobState;
  std::set<Move> legal = {
      {S::kQueued, S::kCancelled},
      {S::kTraining, S::kEvaluating},  {S::kEvaluating, S::kExporting},
      {S::kExporting, S::kSucceeded},  {S::kCancelling, S::kCancelled},
      {S::kCancelling, S::kFailed},
  };
  std::set<S> running = {S::kTraining, S::kEvaluating, S::kExporting};
  if (kind == JobKind::kCustomer) {
    legal.insert({S::kQueued, S::kScreening});
    legal.insert({S::kScreening, S::kTraining});
    running.insert(S::kScreening);
  } else {
    legal.insert({S::kQueued, S::kTraining});
  }
  for (S state : running) {
    legal.insert({state, S::kQueued});
    legal.insert({state, S::kFailed});
    legal.insert({state, S::kCancelling});
  }
  return legal;
}

TEST(CheckTransition, EveryPairMatchesLifecycle) {
  for (JobKind kind : {JobKind::kCustomer, JobKind::kTeacher}) {
    const std::set<Move> legal = LegalMoves(kind);
    for (JobState from : kAllStates) {
      for (JobState to : kAllStates) {
        SCOPED_TRACE(absl::StrCat(JobKindName(kind), " ", JobStateName(from), " -> ",
                                  JobStateName(to)));
        absl::Status status = CheckTransition(kind, from, to);
        if (legal.count({from, to}) > 0) {
          EXPECT_TRUE(status.ok()) << status;
        } else {
          EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
          EXPECT_THAT(std::string(status.message()),
                      HasSubstr(absl::StrCat("from ", JobStateName(from), " to ",
                                             JobStateName(to))));
        }
      }
    }
  }
}

TEST(CheckTransition, TeacherSkipsScreening) {
  EXPECT_FALSE(CheckTransition(JobKind::kTeacher, JobState::kQueued, JobState::kScreening).ok());
  EXPECT_EQ(FirstRunningState(JobKind::kTeacher), JobState::kTraining);
  EXPECT_EQ(FirstRunningState(JobKind::kCustomer), JobState::kScreening);
}

TEST(JobStateNames, ParseRoundTrips) {
  for (JobState state : kAllStates) {
    absl::StatusOr<JobState> parsed = ParseJobState(JobStateName(state));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, state);
  }
  absl::StatusOr<JobState> bad = ParseJobState("RUNNING");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("\"RUNNING\""));
  EXPECT_EQ(ParseJobKind("teacher").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace reftune::jobs
