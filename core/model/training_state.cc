#include "core/model/training_state.h"

#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace reftune::model {
namespace {

// Archive keys may not contain dots, which PEFT names do, so each map is stored as one string
// of names (one per line) plus tensors under "<group>_<index>".
void WriteTensorMap(const std::string& group, const std::map<std::string, torch::Tensor>& tensors,
                    torch::serialize::OutputArchive& archive) {
  std::vector<std::string> names;
  for (const auto& [name, tensor] : tensors) {
    archive.write(absl::StrCat(group, "_", names.size()), tensor.detach().to(torch::kCPU));
    names.push_back(name);
  }
  archive.write(group + "_names", c10::IValue(absl::StrJoin(names, "\n")));
}

void ReadTensorMap(const std::string& group, torch::serialize::InputArchive& archive,
                   std::map<std::string, torch::Tensor>& tensors) {
  c10::IValue names_value;
  archive.read(group + "_names", names_value);
  const std::string names = names_value.toStringRef();
  if (names.empty()) return;
  std::vector<std::string> split = absl::StrSplit(names, '\n');
  for (size_t i = 0; i < split.size(); ++i) {
    torch::Tensor tensor;
    archive.read(absl::StrCat(group, "_", i), tensor);
    tensors[split[i]] = tensor;
  }
}

}  // namespace

absl::Status SaveTrainingState(const TrainingState& state, const std::string& path) {
  const std::string temporary_path = path + ".tmp";
  try {
    torch::serialize::OutputArchive archive;
    archive.write("step", c10::IValue(state.step));
    archive.write("data_position", c10::IValue(state.data_position));
    archive.write("seed", c10::IValue(static_cast<int64_t>(state.seed)));
    archive.write("optimizer_step", c10::IValue(state.optimizer_step));
    WriteTensorMap("adapter", state.adapter, archive);
    WriteTensorMap("optimizer", state.optimizer, archive);
    if (state.generator_state.defined()) {
      archive.write("generator_state", state.generator_state.to(torch::kCPU));
    }
    archive.save_to(temporary_path);
  } catch (const c10::Error& error) {
    return absl::InternalError(absl::StrCat("writing training state ", temporary_path,
                                            " failed: ", error.what_without_backtrace()));
  }
  if (std::rename(temporary_path.c_str(), path.c_str()) != 0) {
    return absl::InternalError(
        absl::StrCat("renaming training state ", temporary_path, " to ", path, " failed"));
  }
  return absl::OkStatus();
}

absl::StatusOr<TrainingState> LoadTrainingState(const std::string& path) {
  TrainingState state;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    c10::IValue value;
    archive.read("step", value);
    state.step = value.toInt();
    archive.read("data_position", value);
    state.data_position = value.toInt();
    archive.read("seed", value);
    state.seed = static_cast<uint64_t>(value.toInt());
    archive.read("optimizer_step", value);
    state.optimizer_step = value.toInt();
    ReadTensorMap("adapter", archive, state.adapter);
    ReadTensorMap("optimizer", archive, state.optimizer);
    torch::Tensor generator_state;
    if (archive.try_read("generator_state", generator_state)) {
      state.generator_state = generator_state;
    }
  } catch (const c10::Error& error) {
    return absl::InvalidArgumentError(absl::StrCat("reading training state ", path,
                                                   " failed: ", error.what_without_backtrace()));
  }
  return state;
}

}  // namespace reftune::model
