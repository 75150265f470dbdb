// A dedicated PostgreSQL connection that LISTENs on channels and waits for NOTIFY messages.
#ifndef REFTUNE_CORE_STORE_NOTIFICATION_LISTENER_H_
#define REFTUNE_CORE_STORE_NOTIFICATION_LISTENER_H_

#include <memory>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace reftune::store {

struct Notification {
  std::string channel;
  std::string payload;
};

// Not thread-safe: one thread waits on a listener. Notifications sent while the connection is
// down are lost, so after an error callers re-read the state they wait for (a slow poll).
class NotificationListener {
 public:
  // Connects with `connection_string` and LISTENs on every channel. UNAVAILABLE when the server
  // cannot be reached.
  static absl::StatusOr<std::unique_ptr<NotificationListener>> Create(
      const std::string& connection_string, std::vector<std::string> channels);
  ~NotificationListener();

  // Waits up to `timeout` and returns the notifications received, empty on timeout. When the
  // connection is lost it returns UNAVAILABLE, and the next call reconnects and LISTENs again.
  absl::StatusOr<std::vector<Notification>> Wait(absl::Duration timeout);

 private:
  class Receiver;
  NotificationListener(std::string connection_string, std::vector<std::string> channels);
  absl::Status Connect();
  void Disconnect();

  const std::string connection_string_;
  const std::vector<std::string> channels_;
  std::unique_ptr<pqxx::connection> connection_;
  std::vector<std::unique_ptr<Receiver>> receivers_;
  std::vector<Notification> received_;
};

}  // namespace reftune::store

#endif  // REFTUNE_CORE_STORE_NOTIFICATION_LISTENER_H_
