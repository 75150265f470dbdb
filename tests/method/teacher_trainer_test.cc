#include "core/method/teacher_trainer.h"

#include <filesystem>

#include "core/method/prompt_filter.h"
#include "core/method/teacher_pipeline.h"
#include "gtest/gtest.h"
#include "tests/method/method_test_support.h"

namespace reftune::method {
namespace {

TeacherTrainingOptions SmallTeacherOptions() {
  TeacherTrainingOptions options;
  options.batch_size = 8;
  options.epochs = 3;
  options.refresh_every_steps = 2;
  options.optimizer.warmup_steps = 2;
  options.log_every_steps = 0;
  options.encode.end_of_answer_id = 1;
  return options;
}

TEST(TeacherTrainer, ShortRunLowersTeacherLoss) {
  auto tiny = testing::LoadTinyModel();
  ASSERT_NE(tiny, nullptr);
  auto data = SplitAlignmentRecords(testing::MakeAlignmentRecords(16));
  ASSERT_TRUE(data.ok()) << data.status();
  auto trainer = TeacherTrainer::Create(tiny->model, tiny->checkpoint.tokenizer,
                                        data::PromptTemplate::Short(), *data,
                                        SmallTeacherOptions());
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  auto before = (*trainer)->EvaluateLoss();
  ASSERT_TRUE(before.ok()) << before.status();

  int64_t callbacks = 0;
  const absl::Status run = (*trainer)->Run([&](const TrainingProgress& progress) {
    ++callbacks;
    EXPECT_EQ(progress.losses.count("regularizer"), 1u);
    return TrainingControl::kContinue;
  });
  ASSERT_TRUE(run.ok()) << run;
  EXPECT_EQ(callbacks, (*trainer)->total_steps());

  ASSERT_TRUE((*trainer)->RefreshRefusalFeature().ok());
  auto after = (*trainer)->EvaluateLoss();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_LT(after->total, before->total);
  EXPECT_LT(after->ce_harmful, before->ce_harmful);
}

TEST(TeacherTrainer, ResumeMatchesUninterruptedRun) {
  auto data = SplitAlignmentRecords(testing::MakeAlignmentRecords(8));
  ASSERT_TRUE(data.ok());
  const std::string folder = testing::MakeTempFolder("resume");

  // Uninterrupted.
  auto tiny_a = testing::LoadTinyModel();
  ASSERT_NE(tiny_a, nullptr);
  auto full = TeacherTrainer::Create(tiny_a->model, tiny_a->checkpoint.tokenizer,
                                     data::PromptTemplate::Short(), *data, SmallTeacherOptions());
  ASSERT_TRUE(full.ok()) << full.status();
  ASSERT_TRUE((*full)->Run(nullptr).ok());

  // Stopped after 2 steps, saved, restored into a fresh model and finished.
  auto tiny_b = testing::LoadTinyModel();
  auto first = TeacherTrainer::Create(tiny_b->model, tiny_b->checkpoint.tokenizer,
                                      data::PromptTemplate::Short(), *data, SmallTeacherOptions());
  ASSERT_TRUE(first.ok());
  const absl::Status stopped = (*first)->Run([](const TrainingProgress& progress) {
    return progress.step == 2 ? TrainingControl::kStop : TrainingControl::kContinue;
  });
  EXPECT_EQ(stopped.code(), absl::StatusCode::kCancelled);
  ASSERT_TRUE((*first)->SaveState(folder + "/state.pt").ok());

  auto tiny_c = testing::LoadTinyModel();
  auto resumed = TeacherTrainer::Create(tiny_c->model, tiny_c->checkpoint.tokenizer,
                                        data::PromptTemplate::Short(), *data,
                                        SmallTeacherOptions());
  ASSERT_TRUE(resumed.ok());
  const absl::Status restored = (*resumed)->RestoreState(folder + "/state.pt");
  ASSERT_TRUE(restored.ok()) << restored;
  EXPECT_EQ((*resumed)->finished_steps(), 2);
  ASSERT_TRUE((*resumed)->Run(nullptr).ok());

  auto expected = tiny_a->model->ExportAdapter("teacher");
  auto actual = tiny_c->model->ExportAdapter("teacher");
  ASSERT_TRUE(expected.ok()) << expected.status();
  ASSERT_TRUE(actual.ok()) << actual.status();
  for (const auto& [name, tensor] : *expected) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(torch::allclose(actual->at(name), tensor, 1e-5, 1e-6));
  }
  std::filesystem::remove_all(folder);
}

TEST(TeacherPipeline, ArtifactRoundTripsIntoFilter) {
  auto tiny = testing::LoadTinyModel();
  ASSERT_NE(tiny, nullptr);
  TeacherPipelineOptions options;
  options.training = SmallTeacherOptions();
  options.heldout_fraction = 0.25;
  auto result = TrainTeacher(tiny->model, tiny->checkpoint.tokenizer,
                             data::PromptTemplate::Short(), testing::MakeAlignmentRecords(16),
                             options, nullptr);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->report.layers.size(), 5u);

  const std::string folder = testing::MakeTempFolder("teacher");
  ASSERT_TRUE(SaveTeacher(folder, result->teacher).ok());
  auto loaded = LoadTeacher(folder);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->layer, result->teacher.layer);
  EXPECT_DOUBLE_EQ(loaded->threshold, result->teacher.threshold);
  EXPECT_EQ(loaded->fingerprint, result->teacher.fingerprint);
  EXPECT_EQ(loaded->prompt_template, data::PromptTemplate::Short());

  // A fresh model with the loaded teacher scores prompts exactly like the trained one.
  auto fresh = testing::LoadTinyModel();
  ASSERT_TRUE(InstallTeacherAdapter(fresh->model, *loaded, "teacher").ok());
  const std::vector<std::string> prompts = {"How do I hurt my friend? Please 1",
                                            "Tell me a story about a cat. Number 2"};
  const PromptFilter trained(tiny->model, tiny->checkpoint.tokenizer, result->teacher, {});
  const PromptFilter reloaded(fresh->model, fresh->checkpoint.tokenizer, *loaded, {});
  auto a = trained.Score(prompts);
  auto b = reloaded.Score(prompts);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  for (size_t i = 0; i < prompts.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_NEAR((*a)[i].cosine, (*b)[i].cosine, 1e-5);
    EXPECT_EQ((*a)[i].filtered, (*b)[i].filtered);
  }

  // A threshold equal to a prompt's own cosine keeps that prompt.
  PromptFilterOptions at_score;
  at_score.threshold = (*b)[0].cosine;
  auto boundary = PromptFilter(fresh->model, fresh->checkpoint.tokenizer, *loaded, at_score)
                      .Score({prompts[0]});
  ASSERT_TRUE(boundary.ok());
  EXPECT_FALSE((*boundary)[0].filtered);
  std::filesystem::remove_all(folder);
}

}  // namespace
}  // namespace reftune::method
