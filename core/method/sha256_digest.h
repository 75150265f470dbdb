// Incremental SHA-256 (OpenSSL EVP) for cache keys and fingerprints.
#ifndef REFTUNE_CORE_METHOD_SHA256_DIGEST_H_
#define REFTUNE_CORE_METHOD_SHA256_DIGEST_H_

#include <cstddef>
#include <string>
#include <string_view>

#include <torch/torch.h>

namespace reftune::method {

class Sha256Digest {
 public:
  Sha256Digest();
  ~Sha256Digest();
  Sha256Digest(const Sha256Digest&) = delete;
  Sha256Digest& operator=(const Sha256Digest&) = delete;

  void Update(const void* data, size_t size);
  void Update(std::string_view text) { Update(text.data(), text.size()); }
  // Hashes the tensor's values as contiguous float32 on the CPU.
  void UpdateTensor(const torch::Tensor& tensor);

  // Lowercase hex of the digest; the object must not be updated afterwards.
  std::string HexDigest();

 private:
  void* context_;
};

}  // namespace reftune::method

#endif  // REFTUNE_CORE_METHOD_SHA256_DIGEST_H_
