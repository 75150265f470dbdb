#include "core/metrics/metrics_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "core/metrics/metrics.h"
#include "gtest/gtest.h"

namespace reftune::metrics {
namespace {

// Sends `request` to 127.0.0.1:port and returns the whole response.
std::string Fetch(int port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return "";
  }
  send(fd, request.data(), request.size(), 0);
  std::string response;
  char buffer[4096];
  ssize_t received;
  while ((received = recv(fd, buffer, sizeof(buffer), 0)) > 0) response.append(buffer, received);
  close(fd);
  return response;
}

TEST(MetricsHttpServer, ServesRegisteredMetrics) {
  Metrics metrics;
  metrics.train_tokens.Increment(42);
  auto server = StartExposer("127.0.0.1:0", metrics);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);

  const std::string response = Fetch((*server)->port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");

  EXPECT_EQ(response.rfind("HTTP/1.0 200 OK", 0), 0u) << response;
  EXPECT_NE(response.find("reftune_train_tokens_total 42"), std::string::npos) << response;
  for (const std::string& name : MetricFamilyNames()) {
    SCOPED_TRACE(name);
    EXPECT_NE(response.find("# TYPE " + name), std::string::npos);
  }
}

TEST(MetricsHttpServer, OtherPathsAreNotFound) {
  Metrics metrics;
  auto server = StartExposer("127.0.0.1:0", metrics);
  ASSERT_TRUE(server.ok()) << server.status();

  const std::string response = Fetch((*server)->port(), "GET / HTTP/1.1\r\n\r\n");

  EXPECT_EQ(response.rfind("HTTP/1.0 404", 0), 0u) << response;
}

TEST(MetricsHttpServer, RejectsMalformedAddress) {
  Metrics metrics;
  for (const std::string address : {"localhost", "127.0.0.1:99999", "host:80", ""}) {
    SCOPED_TRACE(address);
    EXPECT_EQ(StartExposer(address, metrics).status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(MetricsHttpServer, BusyPortIsUnavailable) {
  Metrics metrics;
  auto first = StartExposer("127.0.0.1:0", metrics);
  ASSERT_TRUE(first.ok()) << first.status();

  auto second = StartExposer("127.0.0.1:" + std::to_string((*first)->port()), metrics);

  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace reftune::metrics
