#include "core/store/notification_listener.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/store/postgres_error.h"

namespace reftune::store {

class NotificationListener::Receiver : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection& connection, const std::string& channel,
           std::vector<Notification>* received)
      : pqxx::notification_receiver(connection, channel), received_(received) {}

  void operator()(const std::string& payload, int /*backend_pid*/) override {
    received_->push_back(Notification{channel(), payload});
  }

 private:
  std::vector<Notification>* received_;
};

NotificationListener::NotificationListener(std::string connection_string,
                                           std::vector<std::string> channels)
    : connection_string_(std::move(connection_string)), channels_(std::move(channels)) {}

NotificationListener::~NotificationListener() { Disconnect(); }

absl::StatusOr<std::unique_ptr<NotificationListener>> NotificationListener::Create(
    const std::string& connection_string, std::vector<std::string> channels) {
  std::unique_ptr<NotificationListener> listener(
      new NotificationListener(connection_string, std::move(channels)));
  if (absl::Status status = listener->Connect(); !status.ok()) return status;
  return listener;
}

absl::Status NotificationListener::Connect() {
  try {
    connection_ = std::make_unique<pqxx::connection>(connection_string_);
    // Each receiver sends LISTEN for its channel as it registers.
    for (const std::string& channel : channels_) {
      receivers_.push_back(std::make_unique<Receiver>(*connection_, channel, &received_));
    }
    return absl::OkStatus();
  } catch (const std::exception& error) {
    Disconnect();
    return StatusFromException(error, "LISTEN for PostgreSQL notifications");
  }
}

void NotificationListener::Disconnect() {
  // Receivers unregister from the connection, so they go first. Their destructors may send
  // UNLISTEN on a dead connection; libpqxx reports such failures to its error handler only.
  receivers_.clear();
  connection_.reset();
}

absl::StatusOr<std::vector<Notification>> NotificationListener::Wait(absl::Duration timeout) {
  if (connection_ == nullptr) {
    if (absl::Status status = Connect(); !status.ok()) return status;
  }

  const int64_t micros = absl::ToInt64Microseconds(timeout);
  try {
    connection_->await_notification(static_cast<long>(micros / 1000000),
                                    static_cast<long>(micros % 1000000));
    // libpqxx only notices a closed socket on the next command, so check explicitly: an empty
    // result on a dead connection would look like a quiet queue forever.
    connection_->get_notifs();
    if (!connection_->is_open()) {
      Disconnect();
      return absl::UnavailableError("PostgreSQL notification connection closed; reconnecting");
    }
  } catch (const std::exception& error) {
    Disconnect();
    return StatusFromException(error, "wait for PostgreSQL notifications");
  }

  std::vector<Notification> notifications = std::move(received_);
  received_.clear();
  return notifications;
}

}  // namespace reftune::store
