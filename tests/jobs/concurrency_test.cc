// Many claimers, in threads and in separate processes, drain one queue: each job exactly once.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <iostream>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/jobs/job_queue.h"
#include "core/store/job_store.h"
#include "core/store/tenant_store.h"
#include "tests/support/postgres_environment.h"

extern char** environ;

namespace reftune::jobs {
namespace {

constexpr int kJobs = 1200;
constexpr int kThreads = 4;
constexpr int kProcesses = 2;

// A claimer process whose stdout is read through a pipe.
struct ChildClaimer {
  pid_t pid = -1;
  int stdout_fd = -1;
};

ChildClaimer SpawnClaimer(const std::string& connection_string, const std::string& worker_id) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::string path = REFTUNE_CLAIMER_PATH;
  std::string connection = connection_string;
  std::string worker = worker_id;
  char* argv[] = {path.data(), connection.data(), worker.data(), nullptr};
  ChildClaimer child;
  const int error = posix_spawn(&child.pid, path.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (error != 0) {
    close(fds[0]);
    return {};
  }
  child.stdout_fd = fds[0];
  return child;
}

std::string ReadAll(int fd) {
  std::string output;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) output.append(buffer, n);
  close(fd);
  return output;
}

TEST(QueueConcurrency, ThreadsAndProcessesClaimEachJobOnce) {
  store::DatabaseOptions options;
  options.connection_string = test_support::PostgresEnvironment::NewDatabase();
  options.pool_size = kThreads;
  absl::StatusOr<std::unique_ptr<store::Database>> database = store::Database::Open(options);
  ASSERT_TRUE(database.ok()) << database.status();
  absl::StatusOr<store::Tenant> tenant = store::TenantStore(database->get())
                                             .CreateTenant("acme", store::TenantLimits{kJobs, 1});
  ASSERT_TRUE(tenant.ok()) << tenant.status();

  store::JobStore jobs(database->get());
  std::set<std::string> created;
  for (int i = 0; i < kJobs; ++i) {
    store::NewJob job;
    job.config_json = "{}";
    job.request_id = absl::StrCat("r", i);
    absl::StatusOr<store::CreateJobResult> result = jobs.CreateJob(tenant->id, job);
    ASSERT_TRUE(result.ok()) << result.status();
    created.insert(result->job.id);
  }

  // Processes first, so they are already claiming when the threads start.
  std::vector<ChildClaimer> children;
  for (int p = 0; p < kProcesses; ++p) {
    children.push_back(SpawnClaimer(options.connection_string, absl::StrCat("process-", p)));
    ASSERT_GT(children.back().pid, 0) << "spawning " << REFTUNE_CLAIMER_PATH << " failed";
  }
  std::vector<std::string> child_output(kProcesses);
  std::vector<std::thread> readers;
  for (int p = 0; p < kProcesses; ++p) {
    readers.emplace_back([&, p] { child_output[p] = ReadAll(children[p].stdout_fd); });
  }

  JobQueue queue(database->get(), JobQueueOptions{});
  std::mutex mutex;
  std::map<std::string, std::vector<std::string>> claims_by_worker;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string worker = absl::StrCat("thread-", t);
      std::vector<std::string> claimed;
      while (true) {
        absl::StatusOr<std::optional<store::JobRecord>> job = queue.Claim(worker);
        if (!job.ok()) {
          ADD_FAILURE() << job.status();
          break;
        }
        if (!job->has_value()) break;
        claimed.push_back((*job)->id);
      }
      std::lock_guard<std::mutex> lock(mutex);
      claims_by_worker[worker] = std::move(claimed);
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (std::thread& reader : readers) reader.join();
  for (int p = 0; p < kProcesses; ++p) {
    int status = 0;
    ASSERT_EQ(waitpid(children[p].pid, &status, 0), children[p].pid);
    EXPECT_TRUE(WIFEXITED(status)) << "claimer " << p << " did not exit normally";
    EXPECT_EQ(WEXITSTATUS(status), 0) << "claimer " << p << " failed";
    claims_by_worker[absl::StrCat("process-", p)] =
        absl::StrSplit(child_output[p], '\n', absl::SkipEmpty());
  }

  std::map<std::string, std::string> claimer_of;
  size_t total = 0;
  for (const auto& [worker, ids] : claims_by_worker) {
    total += ids.size();
    std::cout << worker << " claimed " << ids.size() << " jobs\n";
    for (const std::string& id : ids) {
      auto [it, inserted] = claimer_of.emplace(id, worker);
      EXPECT_TRUE(inserted) << "job " << id << " claimed by " << it->second << " and " << worker;
    }
  }
  EXPECT_EQ(total, created.size());
  std::set<std::string> claimed_ids;
  for (const auto& [id, worker] : claimer_of) claimed_ids.insert(id);
  EXPECT_EQ(claimed_ids, created) << "some jobs were never claimed";
}

}  // namespace
}  // namespace reftune::jobs
