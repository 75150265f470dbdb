#include "core/model/rotary_embedding.h"

namespace reftune::model {

RotaryEmbedding::RotaryEmbedding(int64_t head_dim, int64_t max_seq_len, double theta,
                                 RopeStyle style, torch::Device device)
    : head_dim_(head_dim), max_seq_len_(max_seq_len), style_(style) {
  // Angles are computed in float64 and rounded once, so long positions keep their precision.
  auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  torch::Tensor exponents = torch::arange(0, head_dim / 2, f64) * 2.0 / static_cast<double>(head_dim);
  torch::Tensor inverse_frequencies = torch::pow(theta, -exponents);
  torch::Tensor angles = torch::outer(torch::arange(0, max_seq_len, f64), inverse_frequencies);
  cos_ = torch::cos(angles).to(device, torch::kFloat32);
  sin_ = torch::sin(angles).to(device, torch::kFloat32);
}

std::pair<torch::Tensor, torch::Tensor> RotaryEmbedding::Lookup(
    const torch::Tensor& positions) const {
  torch::Tensor flat = positions.reshape({-1});
  std::vector<int64_t> shape = {positions.size(0), positions.size(1), 1, head_dim_ / 2};
  return {cos_.index_select(0, flat).view(shape), sin_.index_select(0, flat).view(shape)};
}

torch::Tensor RotaryEmbedding::Apply(const torch::Tensor& x, const torch::Tensor& cos,
                                     const torch::Tensor& sin) const {
  const int64_t half = head_dim_ / 2;
  torch::Tensor c = cos.to(x.scalar_type());
  torch::Tensor s = sin.to(x.scalar_type());

  if (style_ == RopeStyle::kInterleaved) {
    // Pairs (2i, 2i + 1), as llama2.c and Meta's reference code.
    std::vector<int64_t> paired_shape = x.sizes().vec();
    paired_shape.back() = half;
    paired_shape.push_back(2);
    torch::Tensor pairs = x.reshape(paired_shape);
    torch::Tensor even = pairs.select(-1, 0);
    torch::Tensor odd = pairs.select(-1, 1);
    return torch::stack({even * c - odd * s, even * s + odd * c}, -1).flatten(-2);
  }

  // Pairs (i, i + head_dim / 2), as Hugging Face Llama.
  torch::Tensor first = x.narrow(-1, 0, half);
  torch::Tensor second = x.narrow(-1, half, half);
  return torch::cat({first * c - second * s, second * c + first * s}, -1);
}

}  // namespace reftune::model
