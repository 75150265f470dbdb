#include "core/method/student_trainer.h"

#include <filesystem>
#include <limits>

#include "core/data/prompt_template.h"
#include "core/method/soft_label_cache.h"
#include "gtest/gtest.h"
#include "tests/method/method_test_support.h"

namespace reftune::method {
namespace {

std::vector<EncodedExample> Encode(const testing::TinyModel& tiny,
                                   const std::vector<data::Record>& records) {
  EncodeOptions encode;
  encode.end_of_answer_id = 1;
  auto examples = EncodeExamples(*tiny.checkpoint.tokenizer, data::PromptTemplate::Short(),
                                 records, true, encode);
  EXPECT_TRUE(examples.ok()) << examples.status();
  return examples.ok() ? *examples : std::vector<EncodedExample>{};
}

StudentTrainingOptions SmallStudentOptions() {
  StudentTrainingOptions options;
  options.batch_size = 4;
  options.alignment_batch_size = 4;
  options.epochs = 1;
  options.optimizer.warmup_steps = 1;
  options.log_every_steps = 0;
  return options;
}

TEST(StudentTrainer, NonFiniteLossGivesTypedError) {
  auto tiny = testing::LoadTinyModel();
  ASSERT_NE(tiny, nullptr);
  const std::vector<EncodedExample> user = Encode(*tiny, testing::MakeAlignmentRecords(4));
  std::vector<double> weights(user.size(), 1.0);
  weights[0] = std::numeric_limits<double>::infinity();
  auto trainer = StudentTrainer::Create(tiny->model, user, weights, {}, nullptr,
                                        SmallStudentOptions());
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  const absl::Status status = (*trainer)->Run(nullptr);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(GetTrainingFailure(status), TrainingFailure::kNonFiniteLoss);
  EXPECT_NE(status.message().find("not finite"), std::string::npos);
}

TEST(StudentTrainer, FilteredRowsLeaveTheDataOrder) {
  auto tiny = testing::LoadTinyModel();
  ASSERT_NE(tiny, nullptr);
  const std::vector<EncodedExample> user = Encode(*tiny, testing::MakeAlignmentRecords(4));
  std::vector<double> weights = {0, 1, 0, 1, 0, 1, 0, 1};
  auto trainer = StudentTrainer::Create(tiny->model, user, weights, {}, nullptr,
                                        SmallStudentOptions());
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  EXPECT_EQ((*trainer)->kept_rows(), 4);
  EXPECT_EQ((*trainer)->total_steps(), 1);
  EXPECT_FALSE((*trainer)->distills());

  std::vector<double> none(user.size(), 0.0);
  auto empty = StudentTrainer::Create(tiny->model, user, none, {}, nullptr,
                                      SmallStudentOptions());
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(StudentTrainer, DistillationTermIsReported) {
  auto tiny = testing::LoadTinyModel();
  ASSERT_NE(tiny, nullptr);
  const std::vector<EncodedExample> examples = Encode(*tiny, testing::MakeAlignmentRecords(4));
  // The base model is its own teacher here, so the KL term starts at 0 and grows as the
  // student adapter moves away from it.
  auto labels = ComputeSoftLabels(tiny->model, examples, SoftLabelOptions{.adapter = ""});
  ASSERT_TRUE(labels.ok()) << labels.status();
  auto trainer = StudentTrainer::Create(
      tiny->model, examples, {}, examples,
      std::make_shared<const SoftLabelSet>(*std::move(labels)), SmallStudentOptions());
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  std::vector<double> kl;
  ASSERT_TRUE((*trainer)
                  ->Run([&](const TrainingProgress& progress) {
                    kl.push_back(progress.losses.at("kl"));
                    return TrainingControl::kContinue;
                  })
                  .ok());
  ASSERT_EQ(kl.size(), 2u);
  EXPECT_NEAR(kl[0], 0.0, 1e-5);
  EXPECT_GT(kl[1], 0.0);
}

TEST(SoftLabelCache, HitAndMissByKey) {
  auto tiny = testing::LoadTinyModel();
  ASSERT_NE(tiny, nullptr);
  const std::vector<EncodedExample> examples = Encode(*tiny, testing::MakeAlignmentRecords(3));
  const std::string folder = testing::MakeTempFolder("softlabels");
  const SoftLabelCache cache(folder);
  SoftLabelOptions options{.adapter = "", .top_k = 16};

  const std::string key = SoftLabelCacheKey("teacher-a", examples, options);
  bool hit = true;
  auto computed = cache.GetOrCompute(key, tiny->model, examples, options, &hit);
  ASSERT_TRUE(computed.ok()) << computed.status();
  EXPECT_FALSE(hit);
  auto again = cache.GetOrCompute(key, tiny->model, examples, options, &hit);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(hit);
  EXPECT_TRUE(torch::equal(again->labels.log_probs, computed->labels.log_probs));
  EXPECT_EQ(again->offsets, computed->offsets);

  // Another teacher, other data or other settings give another key.
  EXPECT_NE(SoftLabelCacheKey("teacher-b", examples, options), key);
  EXPECT_NE(SoftLabelCacheKey("teacher-a", {examples[0]}, options), key);
  SoftLabelOptions hotter = options;
  hotter.temperature = 2.0;
  EXPECT_NE(SoftLabelCacheKey("teacher-a", examples, hotter), key);
  auto other = cache.Lookup(SoftLabelCacheKey("teacher-b", examples, options));
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value());
  std::filesystem::remove_all(folder);
}

}  // namespace
}  // namespace reftune::method
