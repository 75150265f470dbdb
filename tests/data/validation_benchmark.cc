// Validation throughput on a generated dataset of about 10 MB, whole and in upload-sized chunks.
// Prints a table; run it from the build tree: tests/data/validation_benchmark [megabytes].
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/data/streaming_validator.h"

namespace {

// Mixes the three accepted formats, with answers of a few hundred bytes and non-ASCII text.
std::string MakeDataset(size_t target_bytes) {
  std::string data;
  for (int i = 0; data.size() < target_bytes; ++i) {
    const std::string answer = absl::StrCat(
        "Answer ", i, ": crêpes need flour, eggs and milk. Whisk them, rest the batter, then cook "
        "thin layers in a hot pan for about a minute on each side until golden. ",
        std::string(static_cast<size_t>(i % 200), 'x'));
    switch (i % 3) {
      case 0:
        absl::StrAppend(&data, R"({"prompt": "How do I make crêpes? Variant )", i,
                        R"(", "response": ")", answer, "\"}\n");
        break;
      case 1:
        absl::StrAppend(&data, R"({"messages": [{"role": "system", "content": "Be brief."}, )",
                        R"({"role": "user", "content": "Question )", i, R"("}, )",
                        R"({"role": "assistant", "content": ")", answer, "\"}]}\n");
        break;
      default:
        absl::StrAppend(&data, R"({"instruction": "Summarise note )", i,
                        R"(", "input": "a short note", "output": ")", answer, "\"}\n");
        break;
    }
  }
  return data;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const double megabytes = argc > 1 ? std::atof(argv[1]) : 10.0;
  const std::string data = MakeDataset(static_cast<size_t>(megabytes * 1024 * 1024));

  std::printf("%-22s %10s %9s %9s %10s\n", "mode", "bytes", "records", "seconds", "MB/s");
  for (const size_t chunk : {data.size(), size_t{1} << 20, size_t{64} << 10}) {
    const auto start = std::chrono::steady_clock::now();
    reftune::data::StreamingValidator validator;
    for (size_t offset = 0; offset < data.size(); offset += chunk) {
      if (!validator.Feed(std::string_view(data).substr(offset, chunk)).ok()) return 1;
    }
    const reftune::data::ValidationReport& report = validator.Finish();
    const double seconds = SecondsSince(start);
    if (!report.ok()) {
      std::fprintf(stderr, "generated data is invalid:\n%s", report.FormatErrors().c_str());
      return 1;
    }
    const std::string mode =
        chunk == data.size() ? "one chunk" : absl::StrCat(chunk >> 10, " KiB chunks");
    std::printf("%-22s %10zu %9lld %9.3f %10.1f\n", mode.c_str(), data.size(),
                static_cast<long long>(report.valid_records), seconds,
                static_cast<double>(data.size()) / (1024.0 * 1024.0) / seconds);
  }
  return 0;
}
