// The teacher cache behind a real server: one load per teacher under concurrent first calls,
// least-recently-used eviction with a shared base model.
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "reftune/v1/filter_service.grpc.pb.h"
#include "tests/filter/filter_fixture.h"

namespace reftune::filter {
namespace {

using testing::Fixture;

grpc::Status Score(int port, const std::string& teacher_id,
                   reftune::v1::ScorePromptsResponse* response) {
  auto stub = reftune::v1::FilterService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  reftune::v1::ScorePromptsRequest request;
  request.set_teacher_id(teacher_id);
  for (size_t i = 0; i < 4; ++i) request.add_prompts(Fixture().prompts[i]);
  grpc::ClientContext context;
  return stub->ScorePrompts(&context, request, response);
}

TEST(TeacherCache, ConcurrentFirstCallsLoadOnce) {
  FilterServerOptions options = testing::TestServerOptions();
  options.executor.threads = 4;
  auto server = FilterServer::Start(options, nullptr);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();

  constexpr int kCalls = 8;
  std::vector<grpc::Status> statuses(kCalls);
  std::vector<reftune::v1::ScorePromptsResponse> responses(kCalls);
  std::vector<std::thread> clients;
  for (int i = 0; i < kCalls; ++i) {
    clients.emplace_back([&, i] { statuses[i] = Score(port, "teacher-b", &responses[i]); });
  }
  for (std::thread& client : clients) client.join();

  for (int i = 0; i < kCalls; ++i) {
    SCOPED_TRACE(absl::StrCat("call ", i));
    ASSERT_TRUE(statuses[i].ok()) << statuses[i].error_message();
    EXPECT_EQ(responses[i].scores(0).cosine_similarity(),
              responses[0].scores(0).cosine_similarity());
  }
  EXPECT_EQ((*server)->teachers().loads(), 1);
  EXPECT_EQ((*server)->base_models().loads(), 1);
}

TEST(TeacherCache, EvictsLeastRecentlyUsedBeyondBound) {
  FilterServerOptions options = testing::TestServerOptions();
  options.teachers.max_teachers = 2;
  auto server = FilterServer::Start(options, nullptr);
  ASSERT_TRUE(server.ok()) << server.status();
  FilterServer& filter = **server;

  reftune::v1::ScorePromptsResponse first_a;
  ASSERT_TRUE(Score(filter.port(), "teacher-a", &first_a).ok());
  reftune::v1::ScorePromptsResponse response;
  ASSERT_TRUE(Score(filter.port(), "teacher-b", &response).ok());
  ASSERT_TRUE(Score(filter.port(), "teacher-a", &response).ok());
  // teacher-b is now the least recently used, so loading teacher-c evicts it.
  ASSERT_TRUE(Score(filter.port(), "teacher-c", &response).ok());

  EXPECT_EQ(filter.teachers().loads(), 3);
  EXPECT_EQ(filter.teachers().evictions(), 1);
  EXPECT_EQ(filter.teachers().LoadedTeacherIds(),
            (std::vector<std::string>{"teacher-c", "teacher-a"}));
  // All three teachers share one base model, which carries only the loaded teachers' adapters.
  EXPECT_EQ(filter.base_models().loads(), 1);
  auto base = filter.base_models().Acquire(Fixture().stories);
  ASSERT_TRUE(base.ok()) << base.status();
  EXPECT_EQ((*base)->model()->AdapterNames().size(), 2u);

  // An evicted teacher loads again and scores as before.
  reftune::v1::ScorePromptsResponse second_b;
  ASSERT_TRUE(Score(filter.port(), "teacher-b", &second_b).ok());
  EXPECT_EQ(filter.teachers().loads(), 4);
  EXPECT_EQ(filter.teachers().evictions(), 2);
  reftune::v1::ScorePromptsResponse second_a;
  ASSERT_TRUE(Score(filter.port(), "teacher-a", &second_a).ok());
  EXPECT_EQ(second_a.scores(0).cosine_similarity(), first_a.scores(0).cosine_similarity());
}

TEST(TeacherCache, MissingBaseModelFileIsFailedPrecondition) {
  const std::string root = Fixture().teacher_root + "-broken";
  std::filesystem::create_directories(root + "/teacher-x");
  FilterServerOptions options = testing::TestServerOptions();
  options.teacher_root = root;
  auto server = FilterServer::Start(options, nullptr);
  ASSERT_TRUE(server.ok()) << server.status();

  reftune::v1::ScorePromptsResponse response;
  const grpc::Status status = Score((*server)->port(), "teacher-x", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("base_model.json"), std::string::npos)
      << status.error_message();
}

}  // namespace
}  // namespace reftune::filter
