// Host launchers of the CUDA full-covariance kernels (csrc/cuda/full_cov.cu). Plain pointers
// (as integers from torch's data_ptr()), sizes and the caller's stream; no CUDA headers needed
// by the includer, no libtorch.
#pragma once

#include <cstdint>

namespace vaecore_cuda {

// z = mu + L eps, kl = 1/2(|mu|^2 + |L|_F^2 - 2 sum log L_ii - k) per sample; status (2 int64 on
// the device, zeroed by the caller) receives {1: bad diagonal | 2: non-finite, sample}.
void full_cov_forward(std::uintptr_t mu, std::uintptr_t L, std::uintptr_t eps, std::uintptr_t z,
                      std::uintptr_t kl, std::uintptr_t status, std::int64_t B, std::int64_t k,
                      bool is_double, std::uintptr_t stream);

// Exact gradients; geps may be 0 (not needed).
void full_cov_backward(std::uintptr_t mu, std::uintptr_t L, std::uintptr_t eps, std::uintptr_t gz,
                       std::uintptr_t gkl, std::uintptr_t gmu, std::uintptr_t gL,
                       std::uintptr_t geps, std::int64_t B, std::int64_t k, bool is_double,
                       std::uintptr_t stream);

}  // namespace vaecore_cuda
