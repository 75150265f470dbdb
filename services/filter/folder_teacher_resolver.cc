#include "services/filter/folder_teacher_resolver.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/data/jsonl.h"

namespace reftune::filter {
namespace {

constexpr size_t kMaxTeacherIdLength = 128;

absl::Status ValidateTeacherId(const std::string& teacher_id) {
  if (teacher_id.empty() || teacher_id.size() > kMaxTeacherIdLength) {
    return absl::InvalidArgumentError(absl::StrCat("teacher_id must have 1 to ",
                                                   kMaxTeacherIdLength, " characters, got ",
                                                   teacher_id.size()));
  }
  if (teacher_id.front() == '.') {
    return absl::InvalidArgumentError(
        absl::StrCat("teacher_id \"", teacher_id, "\" must not start with '.'"));
  }
  for (const char c : teacher_id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return absl::InvalidArgumentError(absl::StrCat(
          "teacher_id \"", teacher_id, "\" may contain only letters, digits, '.', '_' and '-'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TeacherLocation> FolderTeacherResolver::Resolve(
    const std::string& teacher_id) const {
  if (absl::Status status = ValidateTeacherId(teacher_id); !status.ok()) return status;

  const std::filesystem::path folder = std::filesystem::path(root_) / teacher_id;
  std::error_code error;
  if (!std::filesystem::is_directory(folder, error)) {
    return absl::NotFoundError(
        absl::StrCat("teacher \"", teacher_id, "\" not found: no folder ", folder.string()));
  }

  const std::string spec_path = (folder / kBaseModelFile).string();
  absl::StatusOr<nlohmann::json> json = data::ReadJsonFile(spec_path);
  if (!json.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("teacher \"", teacher_id,
                                                      "\" has no readable ", kBaseModelFile,
                                                      ": ", json.status().message()));
  }
  absl::StatusOr<BaseModelSpec> spec = BaseModelSpecFromJson(*json, spec_path, folder.string());
  if (!spec.ok()) return absl::FailedPreconditionError(spec.status().message());

  TeacherLocation location;
  location.folder = folder.string();
  location.base_model = *std::move(spec);
  return location;
}

absl::Status WriteBaseModelFile(const std::string& teacher_folder, const BaseModelSpec& spec) {
  nlohmann::json json = {{"name", spec.name},
                         {"format", spec.format},
                         {"path", std::filesystem::absolute(spec.path).string()},
                         {"tokenizer_path", spec.tokenizer_path.empty()
                                                ? std::string()
                                                : std::filesystem::absolute(spec.tokenizer_path)
                                                      .string()}};
  if (spec.end_of_answer_id.has_value()) json["end_of_answer_token_id"] = *spec.end_of_answer_id;

  const std::string path = (std::filesystem::path(teacher_folder) / kBaseModelFile).string();
  std::ofstream out(path, std::ios::trunc);
  out << json.dump(2) << "\n";
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("writing ", path, " failed"));
  return absl::OkStatus();
}

}  // namespace reftune::filter
