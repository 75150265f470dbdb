#include "core/method/finetune_mode.h"

#include <array>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace reftune::method {
namespace {

struct ModeEntry {
  FinetuneMode mode;
  std::string_view name;
  ModePlan plan;
};

// Fields of ModePlan in order: filter_user_rows, distill, merge_teacher.
constexpr std::array<ModeEntry, 5> kModes = {{
    {FinetuneMode::kRefTeacher, "REF_TEACHER", {true, true, false}},
    {FinetuneMode::kSft, "SFT", {false, false, false}},
    {FinetuneMode::kAlignedSft, "ALIGNED_SFT", {false, false, true}},
    {FinetuneMode::kFilterOnly, "FILTER_ONLY", {true, false, false}},
    {FinetuneMode::kDistillOnly, "DISTILL_ONLY", {false, true, false}},
}};

}  // namespace

ModePlan PlanForMode(FinetuneMode mode) {
  for (const ModeEntry& entry : kModes) {
    if (entry.mode == mode) return entry.plan;
  }
  return ModePlan{};
}

std::string_view FinetuneModeName(FinetuneMode mode) {
  for (const ModeEntry& entry : kModes) {
    if (entry.mode == mode) return entry.name;
  }
  return "UNKNOWN";
}

absl::StatusOr<FinetuneMode> ParseFinetuneMode(std::string_view name) {
  for (const ModeEntry& entry : kModes) {
    if (absl::EqualsIgnoreCase(absl::string_view(entry.name.data(), entry.name.size()),
                               absl::string_view(name.data(), name.size()))) {
      return entry.mode;
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("finetune mode \"", std::string(name),
                   "\" is unknown; expected REF_TEACHER, SFT, ALIGNED_SFT, FILTER_ONLY or "
                   "DISTILL_ONLY"));
}

}  // namespace reftune::method
