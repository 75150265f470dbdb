// Helpers shared by the model format tests: data paths, temporary folders and a tiny
// sentencepiece model trained on the spot.
#ifndef REFTUNE_TESTS_MODEL_TEST_FILES_H_
#define REFTUNE_TESTS_MODEL_TEST_FILES_H_

#include <string>

namespace reftune::model::testing {

// $REFTUNE_DATA_DIR/stories260K, where stories260K.bin and tok512.bin live.
std::string Stories260kDir();

// $REFTUNE_GOLDEN_DIR/stories260K.json.
std::string Stories260kGoldenPath();

// A fresh, empty folder under the system temporary folder, removed when the object is destroyed.
class TempFolder {
 public:
  TempFolder();
  ~TempFolder();
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;

  const std::string& path() const { return path_; }
  // path() joined with `name`.
  std::string File(const std::string& name) const;

 private:
  std::string path_;
};

// Trains a BPE sentencepiece model with Debian's spm_train on a corpus written into `folder` and
// returns the path of the .model file. The model uses byte fallback, the identity normalization
// rule and keeps repeated spaces, like Llama tokenizers, so that encoding round-trips any text.
// Fails the calling test (and returns "") when spm_train fails.
std::string TrainSentencePieceModel(const std::string& folder);

}  // namespace reftune::model::testing

#endif  // REFTUNE_TESTS_MODEL_TEST_FILES_H_
