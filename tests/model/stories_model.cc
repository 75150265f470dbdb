#include "tests/model/stories_model.h"

#include <fstream>

#include "gtest/gtest.h"
#include "tests/model/test_files.h"

namespace reftune::model::testing {

const Checkpoint& Stories260kCheckpoint() {
  static const Checkpoint* checkpoint = [] {
    auto loaded = LoadLlama2cCheckpoint(Stories260kDir() + "/stories260K.bin",
                                        Stories260kDir() + "/tok512.bin");
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return loaded.ok() ? new Checkpoint(std::move(*loaded)) : new Checkpoint();
  }();
  return *checkpoint;
}

Transformer NewStories260kModel() {
  auto model = CreateTransformer(Stories260kCheckpoint(), torch::kCPU);
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? *model : Transformer(nullptr);
}

const nlohmann::json& Stories260kGolden() {
  static const nlohmann::json* golden = [] {
    std::ifstream in(Stories260kGoldenPath());
    EXPECT_TRUE(in.good()) << "cannot open " << Stories260kGoldenPath();
    return new nlohmann::json(nlohmann::json::parse(in));
  }();
  return *golden;
}

torch::Tensor IdsTensor(const std::vector<int64_t>& ids) {
  return torch::tensor(ids, torch::kInt64).view({1, static_cast<int64_t>(ids.size())});
}

}  // namespace reftune::model::testing
