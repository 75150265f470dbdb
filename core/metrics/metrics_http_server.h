// A minimal HTTP/1.0 server for Prometheus scrapes: GET /metrics returns the text exposition
// format of a registry; every other request gets 404.
//
// NOTE: prometheus-cpp's Exposer cannot be used in processes that link LibTorch. Debian 12's
// civetweb 1.15 starts its threads with a fixed stack size, and glibc rejects pthread_create
// (EINVAL) when the static TLS of the loaded libraries (about 108 KB with OpenBLAS and glog) does
// not fit in that stack.
#ifndef REFTUNE_CORE_METRICS_METRICS_HTTP_SERVER_H_
#define REFTUNE_CORE_METRICS_METRICS_HTTP_SERVER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "prometheus/registry.h"

namespace reftune::metrics {

// Serves one registry on one address from a single thread; scrapes are short and rare, so one
// connection at a time is enough. The destructor stops the thread.
class MetricsHttpServer {
 public:
  // Binds `bind_address` ("127.0.0.1:9100"; port 0 picks a free port) and starts serving.
  // INVALID_ARGUMENT for an address that is not IPv4 host:port, UNAVAILABLE when binding fails.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& bind_address, std::shared_ptr<prometheus::Registry> registry);

  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // The bound port, also when the address asked for port 0.
  int port() const { return port_; }

 private:
  MetricsHttpServer(int listen_fd, int port, std::shared_ptr<prometheus::Registry> registry);
  void Serve();
  void HandleConnection(int fd);

  const int listen_fd_;
  const int port_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace reftune::metrics

#endif  // REFTUNE_CORE_METRICS_METRICS_HTTP_SERVER_H_
