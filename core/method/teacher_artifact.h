// A trained Ref-Teacher stored as a folder:
//   adapter_config.json, adapter_model.safetensors   the LoRA adapter in PEFT layout
//   refusal_feature.safetensors                       "refusal_feature": R^l, [dim] float32
//   teacher.json                                      layer, threshold, template, quality report
#ifndef REFTUNE_CORE_METHOD_TEACHER_ARTIFACT_H_
#define REFTUNE_CORE_METHOD_TEACHER_ARTIFACT_H_

#include <cstdint>
#include <map>
#include <string>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/data/prompt_template.h"
#include "core/model/lora_config.h"
#include "core/model/transformer.h"
#include "nlohmann/json.hpp"

namespace reftune::method {

struct TeacherArtifact {
  model::LoraConfig lora;
  // Adapter tensors under PEFT names, float32 on the CPU.
  std::map<std::string, torch::Tensor> adapter_tensors;
  // Block (0-based) whose residual output the filter reads.
  int64_t layer = 0;
  // R^l, [dim] float32.
  torch::Tensor refusal_feature;
  // tau: prompts with cosine above it are filtered.
  double threshold = 0.9;
  data::PromptTemplate prompt_template = data::PromptTemplate::Alpaca();
  // Token that ended every training answer.
  int64_t end_of_answer_id = 2;
  // CalibrationReport::ToJson() of the teacher, or null.
  nlohmann::json quality_report;
  // Hex SHA-256 over the adapter tensors, R^l, layer and template: the soft-label cache key part.
  std::string fingerprint;
};

// Computes TeacherArtifact::fingerprint from the other fields.
std::string ComputeTeacherFingerprint(const TeacherArtifact& teacher);

// Writes the folder (created when missing; existing files are replaced).
absl::Status SaveTeacher(const std::string& folder, const TeacherArtifact& teacher);

// Reads a folder written by SaveTeacher. NOT_FOUND names a missing file; INVALID_ARGUMENT names
// the file and field that is malformed.
absl::StatusOr<TeacherArtifact> LoadTeacher(const std::string& folder);

// Adds the teacher's adapter to `model` as `adapter_name`.
absl::Status InstallTeacherAdapter(model::Transformer& model, const TeacherArtifact& teacher,
                                   const std::string& adapter_name);

}  // namespace reftune::method

#endif  // REFTUNE_CORE_METHOD_TEACHER_ARTIFACT_H_
