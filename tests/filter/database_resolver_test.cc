// Teachers and base models registered in a real PostgreSQL cluster, served by a filter service
// that has no teacher root folder.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/store/base_model_store.h"
#include "core/store/database.h"
#include "core/store/teacher_store.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "reftune/v1/filter_service.grpc.pb.h"
#include "tests/filter/filter_fixture.h"
#include "tests/support/postgres_cluster.h"

namespace reftune::filter {
namespace {

using testing::Fixture;

TEST(DatabaseResolver, ServesRegisteredTeacherAndBaseModel) {
  auto cluster = test_support::PostgresCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  store::DatabaseOptions database_options;
  database_options.connection_string = (*cluster)->ConnectionString();
  auto database = store::Database::Open(database_options);
  ASSERT_TRUE(database.ok()) << database.status();

  store::BaseModelRecord base;
  base.name = "stories260K";
  base.format = "llama2c";
  base.path = Fixture().stories.path;
  base.tokenizer_path = Fixture().stories.tokenizer_path;
  base.end_of_answer_token_id = 1;
  base.prompt_template = data::PromptTemplate::Alpaca().text();
  store::BaseModelStore base_models(database->get());
  ASSERT_TRUE(base_models.Register(base).ok());
  store::TeacherRecord teacher;
  teacher.base_model = "stories260K";
  teacher.adapter_path = Fixture().teacher_root + "/teacher-a";
  teacher.refusal_feature_path = teacher.adapter_path + "/refusal_feature.safetensors";
  teacher.layer = 2;
  store::TeacherStore teachers(database->get());
  auto created = teachers.Create(teacher);
  ASSERT_TRUE(created.ok()) << created.status();

  FilterServerOptions options;
  options.grpc.listen_address = "127.0.0.1:0";
  options.database = database->get();
  auto server = FilterServer::Start(options, nullptr);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = reftune::v1::FilterService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", (*server)->port()), grpc::InsecureChannelCredentials()));

  const auto& prompts = Fixture().prompts;
  reftune::v1::ScorePromptsRequest request;
  request.set_teacher_id(created->id);
  for (const std::string& prompt : prompts) request.add_prompts(prompt);
  grpc::ClientContext score_context;
  reftune::v1::ScorePromptsResponse response;
  const grpc::Status status = stub->ScorePrompts(&score_context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  auto expected = testing::DirectFilter("teacher-a")->Score(prompts);
  ASSERT_TRUE(expected.ok()) << expected.status();
  ASSERT_EQ(response.scores_size(), static_cast<int>(prompts.size()));
  for (size_t i = 0; i < prompts.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("prompt ", i));
    EXPECT_NEAR(response.scores(i).cosine_similarity(), (*expected)[i].cosine, 1e-6);
  }

  request.set_teacher_id("00000000-0000-0000-0000-000000000000");
  grpc::ClientContext missing_context;
  EXPECT_EQ(stub->ScorePrompts(&missing_context, request, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);

  reftune::v1::GenerateWithAdapterRequest generate;
  generate.set_base_model("stories260K");
  generate.set_adapter_path(Fixture().adapter_folder);
  generate.add_prompts("Once upon a time");
  generate.set_max_new_tokens(8);
  grpc::ClientContext generate_context;
  reftune::v1::GenerateWithAdapterResponse completions;
  const grpc::Status generated =
      stub->GenerateWithAdapter(&generate_context, generate, &completions);
  ASSERT_TRUE(generated.ok()) << generated.error_message();
  ASSERT_EQ(completions.completions_size(), 1);
  EXPECT_FALSE(completions.completions(0).empty());
}

}  // namespace
}  // namespace reftune::filter
