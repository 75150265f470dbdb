// The reftune-filter binary: starts from flags, serves health and FilterService on 127.0.0.1,
// and exits 0 on SIGTERM.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "reftune/v1/filter_service.grpc.pb.h"
#include "tests/filter/filter_fixture.h"
#include "tests/support/postgres_cluster.h"

namespace reftune::filter {
namespace {

using testing::Fixture;

std::string BinaryPath() {
  const char* build_dir = std::getenv("REFTUNE_BUILD_DIR");
  return absl::StrCat(build_dir != nullptr ? build_dir : ".", "/services/filter/reftune-filter");
}

pid_t Spawn(const std::vector<std::string>& args) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// Returns the exit status, or -1 when the process is still running after `timeout`.
int WaitForExit(pid_t pid, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return -1;
}

TEST(FilterProcess, ServesAndStopsOnSigterm) {
  auto port = test_support::PickFreeLoopbackPort();
  ASSERT_TRUE(port.ok()) << port.status();
  const std::string address = absl::StrCat("127.0.0.1:", *port);
  // NOTE: the metrics endpoint stays off, because prometheus-cpp's Exposer (Debian 12) fails to
  // start in a process that links LibTorch ("null context when constructing CivetServer").
  const pid_t pid = Spawn({BinaryPath(), "--listen", address, "--metrics-listen", "",
                           "--teacher-root", Fixture().teacher_root, "--max-teachers", "2",
                           "--model-threads", "1", "--intra-op-threads", "1"});
  ASSERT_GT(pid, 0);
  // Stops the child even when an assertion below ends the test early.
  std::unique_ptr<void, std::function<void(void*)>> stop_child(
      reinterpret_cast<void*>(1), [pid](void*) {
        if (waitpid(pid, nullptr, WNOHANG) == 0) {
          kill(pid, SIGKILL);
          waitpid(pid, nullptr, 0);
        }
      });

  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  ASSERT_TRUE(channel->WaitForConnected(std::chrono::system_clock::now() +
                                        std::chrono::seconds(30)))
      << "reftune-filter did not listen on " << address;
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext health_context;
  grpc::health::v1::HealthCheckResponse health_response;
  ASSERT_TRUE(health->Check(&health_context, {}, &health_response).ok());
  EXPECT_EQ(health_response.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  auto stub = reftune::v1::FilterService::NewStub(channel);
  reftune::v1::ScorePromptsRequest request;
  request.set_teacher_id("teacher-a");
  request.add_prompts(Fixture().prompts.front());
  grpc::ClientContext score_context;
  reftune::v1::ScorePromptsResponse response;
  const grpc::Status status = stub->ScorePrompts(&score_context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.scores_size(), 1);

  ASSERT_EQ(kill(pid, SIGTERM), 0);
  const int exit_status = WaitForExit(pid, std::chrono::seconds(20));
  ASSERT_NE(exit_status, -1) << "reftune-filter ignored SIGTERM";
  ASSERT_TRUE(WIFEXITED(exit_status));
  EXPECT_EQ(WEXITSTATUS(exit_status), 0);
}

TEST(FilterProcess, RejectsMissingTeacherSource) {
  const pid_t pid = Spawn({BinaryPath(), "--listen", "127.0.0.1:0", "--metrics-listen", ""});
  ASSERT_GT(pid, 0);
  const int exit_status = WaitForExit(pid, std::chrono::seconds(20));
  if (exit_status == -1) kill(pid, SIGKILL);
  ASSERT_NE(exit_status, -1);
  ASSERT_TRUE(WIFEXITED(exit_status));
  EXPECT_EQ(WEXITSTATUS(exit_status), 1);
}

}  // namespace
}  // namespace reftune::filter
