#include "core/model/file_bytes.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"

namespace reftune::model {

absl::StatusOr<std::string> ReadFileBytes(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat(what, " ", path, " cannot be opened: ", std::strerror(errno)));
  }
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    return absl::InternalError(absl::StrCat("failed to read ", what, " ", path));
  }
  return bytes;
}

absl::Status WriteFileBytes(const std::string& path, std::string_view bytes,
                            const std::string& what) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    return absl::InternalError(
        absl::StrCat(what, " ", path, " cannot be created: ", std::strerror(errno)));
  }
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) {
    return absl::InternalError(absl::StrCat("failed to write ", what, " ", path));
  }
  return absl::OkStatus();
}

}  // namespace reftune::model
