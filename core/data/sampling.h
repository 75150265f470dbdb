// Seeded, platform-independent hashing and shuffling for the dataset builders. std::shuffle and
// std::uniform_int_distribution are implementation-defined, so builders use these instead to write
// the same files on every standard library.
#ifndef REFTUNE_CORE_DATA_SAMPLING_H_
#define REFTUNE_CORE_DATA_SAMPLING_H_

#include <cstdint>
#include <random>
#include <string_view>
#include <utility>
#include <vector>

namespace reftune::data {

// 64-bit FNV-1a hash: stable across runs, machines and compilers.
uint64_t StableHash64(std::string_view text);

// Derives an independent seed for one named random stream of a build.
uint64_t DeriveSeed(uint64_t seed, std::string_view stream);

// Uniform integers from a seeded std::mt19937_64, whose output sequence the C++ standard fixes.
class SeededRandom {
 public:
  explicit SeededRandom(uint64_t seed) : engine_(seed) {}

  // Returns a uniform integer in [0, bound). `bound` must be positive.
  uint64_t Below(uint64_t bound);

 private:
  std::mt19937_64 engine_;
};

// Fisher-Yates shuffle driven by SeededRandom.
template <typename T>
void ShuffleWithSeed(std::vector<T>& items, uint64_t seed) {
  SeededRandom random(seed);
  for (size_t i = items.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(random.Below(i));
    std::swap(items[i - 1], items[j]);
  }
}

}  // namespace reftune::data

#endif  // REFTUNE_CORE_DATA_SAMPLING_H_
