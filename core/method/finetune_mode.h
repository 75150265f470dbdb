// The student finetuning modes and which parts of the method each one uses.
#ifndef REFTUNE_CORE_METHOD_FINETUNE_MODE_H_
#define REFTUNE_CORE_METHOD_FINETUNE_MODE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace reftune::method {

enum class FinetuneMode {
  // Filter the user rows with the teacher and distil the teacher on alignment data.
  kRefTeacher,
  // Plain LoRA finetuning on every user row.
  kSft,
  // Merge the teacher adapter into the base, then plain finetuning on every user row.
  kAlignedSft,
  // Filter only: weighted cross-entropy, no distillation.
  kFilterOnly,
  // Distillation only: every user row kept.
  kDistillOnly,
};

// The parts of the method a mode turns on.
struct ModePlan {
  // Weights user rows by the teacher's filter decision (w_i = 0 when filtered).
  bool filter_user_rows = false;
  // Adds alpha * T^2 * KL(teacher || student) on alignment answers.
  bool distill = false;
  // Merges the teacher adapter into the base weights before the student adapter is added.
  bool merge_teacher = false;

  // True when the mode needs a teacher at all.
  bool needs_teacher() const { return filter_user_rows || distill || merge_teacher; }
  // True when the mode reads the alignment set.
  bool needs_alignment_data() const { return distill; }
};

ModePlan PlanForMode(FinetuneMode mode);

// "REF_TEACHER", "SFT", "ALIGNED_SFT", "FILTER_ONLY" or "DISTILL_ONLY".
std::string_view FinetuneModeName(FinetuneMode mode);

// Parses a name written by FinetuneModeName, case-insensitively. INVALID_ARGUMENT lists the names.
absl::StatusOr<FinetuneMode> ParseFinetuneMode(std::string_view name);

}  // namespace reftune::method

#endif  // REFTUNE_CORE_METHOD_FINETUNE_MODE_H_
