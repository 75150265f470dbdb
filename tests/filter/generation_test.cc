// GenerateWithAdapter over a real server: completions equal in-process generation with the same
// adapter, and bad requests fail with the documented codes.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/data/prompt_template.h"
#include "core/method/teacher_artifact.h"
#include "core/model/adapter_io.h"
#include "core/model/generation.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "reftune/v1/filter_service.grpc.pb.h"
#include "tests/filter/filter_fixture.h"

namespace reftune::filter {
namespace {

using testing::Fixture;

class GenerationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = FilterServer::Start(testing::TestServerOptions(), nullptr);
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = *std::move(started);
    stub_ = reftune::v1::FilterService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->port()), grpc::InsecureChannelCredentials()));
  }

  static reftune::v1::GenerateWithAdapterRequest Request() {
    reftune::v1::GenerateWithAdapterRequest request;
    request.set_base_model("stories260K");
    request.set_adapter_path(Fixture().adapter_folder);
    request.add_prompts("Tell a story about a cat.");
    request.add_prompts("Once upon a time");
    request.set_max_new_tokens(24);
    return request;
  }

  // Greedy completions of `prompts` computed in-process on a fresh model, with the adapter in
  // `adapter_folder` unless it is empty, on the base with `merged_teacher` merged unless empty.
  static std::vector<std::string> ExpectedCompletions(const std::vector<std::string>& prompts,
                                                      const std::string& adapter_folder,
                                                      int64_t max_new_tokens,
                                                      const std::string& merged_teacher = "") {
    auto checkpoint = LoadBaseCheckpoint(Fixture().stories);
    EXPECT_TRUE(checkpoint.ok()) << checkpoint.status();
    auto model = model::CreateTransformer(*checkpoint, torch::kCPU);
    EXPECT_TRUE(model.ok()) << model.status();
    (*model)->eval();
    if (!merged_teacher.empty()) {
      auto teacher = method::LoadTeacher(merged_teacher);
      EXPECT_TRUE(teacher.ok()) << teacher.status();
      EXPECT_TRUE(method::InstallTeacherAdapter(*model, *teacher, "teacher").ok());
      EXPECT_TRUE((*model)->MergeAdapter("teacher").ok());
    }
    model::GenerationOptions options;
    options.max_new_tokens = max_new_tokens;
    if (!adapter_folder.empty()) {
      auto adapter = model::LoadAdapter(adapter_folder, checkpoint->config);
      EXPECT_TRUE(adapter.ok()) << adapter.status();
      EXPECT_TRUE((*model)->ImportAdapter("job", adapter->config, adapter->tensors).ok());
      options.adapter = "job";
    }
    std::vector<std::vector<int64_t>> ids;
    for (const std::string& prompt : prompts) {
      ids.push_back(checkpoint->tokenizer->Encode(data::PromptTemplate::Alpaca().Render(prompt),
                                                  /*add_bos=*/true, /*add_eos=*/false));
    }
    auto sequences = model::Generate(*model, ids, options);
    EXPECT_TRUE(sequences.ok()) << sequences.status();
    std::vector<std::string> completions;
    for (const auto& sequence : *sequences) {
      completions.push_back(checkpoint->tokenizer->Decode(sequence.tokens));
    }
    return completions;
  }

  std::unique_ptr<FilterServer> server_;
  std::unique_ptr<reftune::v1::FilterService::Stub> stub_;
};

TEST_F(GenerationTest, AdapterCompletionsEqualInProcess) {
  const auto request = Request();
  grpc::ClientContext context;
  reftune::v1::GenerateWithAdapterResponse response;
  const grpc::Status status = stub_->GenerateWithAdapter(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();

  const std::vector<std::string> prompts(request.prompts().begin(), request.prompts().end());
  const auto expected = ExpectedCompletions(prompts, Fixture().adapter_folder, 24);
  ASSERT_EQ(response.completions_size(), 2);
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(absl::StrCat("prompt ", i));
    EXPECT_FALSE(response.completions(i).empty());
    EXPECT_EQ(response.completions(i), expected[i]);
  }
  // The adapter is removed after the call; the base model keeps no generation adapter.
  auto base = server_->base_models().Acquire(Fixture().stories);
  ASSERT_TRUE(base.ok()) << base.status();
  EXPECT_TRUE((*base)->model()->AdapterNames().empty());
}

TEST_F(GenerationTest, EmptyAdapterPathUsesBaseModel) {
  auto request = Request();
  request.clear_adapter_path();
  grpc::ClientContext context;
  reftune::v1::GenerateWithAdapterResponse response;
  const grpc::Status status = stub_->GenerateWithAdapter(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();

  const std::vector<std::string> prompts(request.prompts().begin(), request.prompts().end());
  const auto expected = ExpectedCompletions(prompts, "", 24);
  ASSERT_EQ(response.completions_size(), 2);
  EXPECT_EQ(response.completions(0), expected[0]);
  EXPECT_EQ(response.completions(1), expected[1]);
}

TEST_F(GenerationTest, MergedTeacherAdapterEqualsInProcess) {
  auto request = Request();
  request.set_adapter_path(Fixture().merged_adapter_folder);
  grpc::ClientContext context;
  reftune::v1::GenerateWithAdapterResponse response;
  const grpc::Status status = stub_->GenerateWithAdapter(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();

  const std::vector<std::string> prompts(request.prompts().begin(), request.prompts().end());
  const auto expected = ExpectedCompletions(prompts, Fixture().merged_adapter_folder, 24,
                                            Fixture().teacher_root + "/teacher-a");
  const auto unmerged = ExpectedCompletions(prompts, Fixture().merged_adapter_folder, 24);
  ASSERT_EQ(response.completions_size(), 2);
  EXPECT_EQ(response.completions(0), expected[0]);
  EXPECT_EQ(response.completions(1), expected[1]);
  // The merged teacher changes the output, so the comparison above can tell the two apart.
  EXPECT_NE(expected, unmerged);
  // The merge happened on a private copy: the shared base model keeps the checkpoint's weights.
  auto base = server_->base_models().Acquire(Fixture().stories);
  ASSERT_TRUE(base.ok()) << base.status();
  auto checkpoint = LoadBaseCheckpoint(Fixture().stories);
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status();
  const std::string key = "model.layers.0.self_attn.q_proj.weight";
  EXPECT_TRUE(torch::equal((*base)->model()->NamedBaseWeights().at(key),
                           checkpoint->weights.at(key)));
}

TEST_F(GenerationTest, RejectsBadRequests) {
  struct Case {
    std::string name;
    reftune::v1::GenerateWithAdapterRequest request;
    grpc::StatusCode code;
    std::string message;
  };
  std::vector<Case> cases;
  Case no_prompts{"no prompts", Request(), grpc::StatusCode::INVALID_ARGUMENT, "got 0"};
  no_prompts.request.clear_prompts();
  cases.push_back(no_prompts);
  Case many_prompts{"17 prompts", Request(), grpc::StatusCode::INVALID_ARGUMENT, "got 17"};
  for (int i = 0; i < 15; ++i) many_prompts.request.add_prompts("hello");
  cases.push_back(many_prompts);
  Case tokens{"513 new tokens", Request(), grpc::StatusCode::INVALID_ARGUMENT, "got 513"};
  tokens.request.set_max_new_tokens(513);
  cases.push_back(tokens);
  Case template_text{"template without placeholder", Request(),
                     grpc::StatusCode::INVALID_ARGUMENT, "{prompt}"};
  template_text.request.set_prompt_template("no placeholder");
  cases.push_back(template_text);
  Case base{"unknown base model", Request(), grpc::StatusCode::NOT_FOUND, "llama-9000"};
  base.request.set_base_model("llama-9000");
  cases.push_back(base);
  Case adapter{"missing adapter", Request(), grpc::StatusCode::FAILED_PRECONDITION,
               "/nonexistent/adapter"};
  adapter.request.set_adapter_path("/nonexistent/adapter");
  cases.push_back(adapter);

  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    grpc::ClientContext context;
    reftune::v1::GenerateWithAdapterResponse response;
    const grpc::Status status = stub_->GenerateWithAdapter(&context, c.request, &response);
    EXPECT_EQ(status.error_code(), c.code);
    EXPECT_NE(status.error_message().find(c.message), std::string::npos)
        << status.error_message();
  }
}

}  // namespace
}  // namespace reftune::filter
