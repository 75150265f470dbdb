// Start-up setting of LibTorch's intra-op thread count.
#ifndef REFTUNE_CORE_MODEL_TORCH_THREADS_H_
#define REFTUNE_CORE_MODEL_TORCH_THREADS_H_

namespace reftune::model {

// Sets LibTorch's intra-op thread count (which also sizes the OpenMP pool that OpenBLAS uses) and
// an inter-op count of 1. `requested_threads` <= 0 means std::thread::hardware_concurrency().
// Only the first call changes the settings, because LibTorch must not resize its pools while
// other threads run tensor operations. Later calls return the count chosen by the first.
// Safe to call from several threads. Returns the intra-op thread count in use.
int ConfigureTorchThreads(int requested_threads);

}  // namespace reftune::model

#endif  // REFTUNE_CORE_MODEL_TORCH_THREADS_H_
