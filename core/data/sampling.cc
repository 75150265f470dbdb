#include "core/data/sampling.h"

#include <limits>

namespace reftune::data {

uint64_t StableHash64(std::string_view text) {
  constexpr uint64_t kOffsetBasis = 14695981039346656037ULL;
  constexpr uint64_t kPrime = 1099511628211ULL;
  uint64_t hash = kOffsetBasis;
  for (const char c : text) {
    hash ^= static_cast<uint8_t>(c);
    hash *= kPrime;
  }
  return hash;
}

uint64_t DeriveSeed(uint64_t seed, std::string_view stream) {
  // The odd multiplier spreads nearby seeds (0, 1, 2, ...) across the whole 64-bit range.
  return (seed * 0x9E3779B97F4A7C15ULL) ^ StableHash64(stream);
}

uint64_t SeededRandom::Below(uint64_t bound) {
  // Rejection sampling removes the modulo bias of engine_() % bound.
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  const uint64_t limit = max - max % bound;
  uint64_t value = engine_();
  while (value >= limit) value = engine_();
  return value % bound;
}

}  // namespace reftune::data
