// Trained teachers and the promotion of one teacher per base model to active.
#ifndef REFTUNE_CORE_STORE_TEACHER_STORE_H_
#define REFTUNE_CORE_STORE_TEACHER_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/store/database.h"

namespace reftune::store {

struct TeacherRecord {
  std::string id;
  // Name of the base model (the table stores its id).
  std::string base_model;
  // Teacher-training job that produced it; empty for a teacher registered by hand.
  std::string job_id;
  std::string adapter_path;
  // Transformer layer whose hidden state the refusal feature lives in.
  int layer = 0;
  std::string refusal_feature_path;
  // Cosine-similarity threshold above which a prompt counts as harmful.
  double threshold = 0;
  // JSON object with the filter quality per layer, e.g. {"layers": [{"layer": 2, "f1": 0.9}]}.
  std::string quality_report_json = "{}";
  // HARMFUL_EVAL dataset that customer jobs of this teacher are scored on; empty when none.
  std::string harmful_eval_dataset_id;
  std::string prompt_template;
  // True when it is its base model's active teacher.
  bool active = false;
  absl::Time created_at;
};

// Thread-safe; `database` must outlive the store.
class TeacherStore {
 public:
  explicit TeacherStore(Database* database) : database_(database) {}

  // Inserts a teacher for the base model named `teacher.base_model` (id, active and created_at are
  // assigned). NOT_FOUND for an unknown base model.
  absl::StatusOr<TeacherRecord> Create(const TeacherRecord& teacher);

  // NOT_FOUND when the id is unknown.
  absl::StatusOr<TeacherRecord> Get(const std::string& teacher_id);

  // Teachers of the base model named `base_model` (every teacher when empty), newest first.
  absl::StatusOr<std::vector<TeacherRecord>> List(const std::string& base_model);

  // Makes the teacher its base model's active one in one transaction, replacing the previous
  // active teacher. NOT_FOUND when the id is unknown.
  absl::StatusOr<TeacherRecord> Promote(const std::string& teacher_id);

  // The active teacher of the base model named `base_model`; nullopt when none is promoted.
  absl::StatusOr<std::optional<TeacherRecord>> Active(const std::string& base_model);

 private:
  Database* database_;
};

}  // namespace reftune::store

#endif  // REFTUNE_CORE_STORE_TEACHER_STORE_H_
