// Teachers stored as subfolders of one root folder, for deployments without a database:
//   <root>/<teacher id>/                the folder written by method::SaveTeacher
//   <root>/<teacher id>/base_model.json {"name", "format", "path", "tokenizer_path",
//                                        "end_of_answer_token_id"}; relative paths are taken
//                                        relative to the teacher folder.
#ifndef REFTUNE_SERVICES_FILTER_FOLDER_TEACHER_RESOLVER_H_
#define REFTUNE_SERVICES_FILTER_FOLDER_TEACHER_RESOLVER_H_

#include <string>

#include "absl/status/statusor.h"
#include "services/filter/model_resolvers.h"

namespace reftune::filter {

inline constexpr char kBaseModelFile[] = "base_model.json";

// Thread-safe: it only reads files.
class FolderTeacherResolver : public TeacherResolver {
 public:
  explicit FolderTeacherResolver(std::string root) : root_(std::move(root)) {}

  // Teacher ids are 1 to 128 characters of [A-Za-z0-9._-] and do not start with '.', so an id
  // never leaves the root folder.
  absl::StatusOr<TeacherLocation> Resolve(const std::string& teacher_id) const override;

 private:
  std::string root_;
};

// Writes <teacher_folder>/base_model.json for `spec`, with absolute paths.
absl::Status WriteBaseModelFile(const std::string& teacher_folder, const BaseModelSpec& spec);

}  // namespace reftune::filter

#endif  // REFTUNE_SERVICES_FILTER_FOLDER_TEACHER_RESOLVER_H_
