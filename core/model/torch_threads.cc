#include "core/model/torch_threads.h"

#include <mutex>
#include <thread>

#include <ATen/Parallel.h>
#include <glog/logging.h>

namespace reftune::model {

int ConfigureTorchThreads(int requested_threads) {
  static std::once_flag once;
  static int configured_threads = 0;
  std::call_once(once, [requested_threads] {
    int threads = requested_threads;
    if (threads <= 0) threads = static_cast<int>(std::thread::hardware_concurrency());
    if (threads <= 0) threads = 1;
    at::set_num_threads(threads);
    // The inter-op pool can be sized only before its first use; another library may have used it.
    try {
      at::set_num_interop_threads(1);
    } catch (const c10::Error& error) {
      LOG(WARNING) << "LibTorch inter-op threads already started, keeping "
                   << at::get_num_interop_threads() << ": " << error.what_without_backtrace();
    }
    configured_threads = at::get_num_threads();
    LOG(INFO) << "LibTorch intra-op threads: " << configured_threads
              << " (requested " << requested_threads << ", hardware "
              << std::thread::hardware_concurrency() << ")";
  });
  return configured_threads;
}

}  // namespace reftune::model
