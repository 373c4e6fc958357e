// CUDA twin of csrc/full_cov.cpp: fused full-covariance reparameterisation + KL (thesis §3.2.7,
// eq. 3.30-3.31), forward and backward, one thread per sample, launched on the caller's stream.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "full_cov.cuh"

namespace vaecore_cuda {
namespace {

constexpr int kThreads = 128;

__device__ void report(long long* status, long long code, long long sample) {
  if (atomicCAS(reinterpret_cast<unsigned long long*>(status), 0ULL,
                static_cast<unsigned long long>(code)) == 0ULL) {
    status[1] = sample;
  }
}

template <typename T>
__global__ void forward_kernel(const T* __restrict__ mu, const T* __restrict__ L,
                               const T* __restrict__ eps, T* __restrict__ z, T* __restrict__ kl,
                               long long* status, long long B, long long k) {
  const long long b = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
  if (b >= B) return;
  const T* m = mu + b * k;
  const T* l = L + b * k * k;
  const T* e = eps + b * k;
  T* zb = z + b * k;
  T sq = 0, logdet = 0;
  bool finite = true, diag_ok = true;
  for (long long i = 0; i < k; ++i) {
    const T* row = l + i * k;
    const T d = row[i];
    diag_ok = diag_ok && (d > T(0)) && isfinite(d);
    T acc = m[i];
    for (long long j = 0; j <= i; ++j) {
      acc += row[j] * e[j];
      sq += row[j] * row[j];
    }
    zb[i] = acc;
    finite = finite && isfinite(acc);
    sq += m[i] * m[i];
    logdet += log(d);
  }
  const T v = T(0.5) * (sq - T(2) * logdet - static_cast<T>(k));
  kl[b] = v;
  if (!diag_ok) {
    report(status, 1, b);
  } else if (!finite || !isfinite(v)) {
    report(status, 2, b);
  }
}

template <typename T>
__global__ void backward_kernel(const T* __restrict__ mu, const T* __restrict__ L,
                                const T* __restrict__ eps, const T* __restrict__ gz,
                                const T* __restrict__ gkl, T* __restrict__ gmu,
                                T* __restrict__ gL, T* __restrict__ geps, long long B,
                                long long k) {
  const long long b = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
  if (b >= B) return;
  const T* m = mu + b * k;
  const T* l = L + b * k * k;
  const T* e = eps + b * k;
  const T* g = gz + b * k;
  const T c = gkl[b];
  T* om = gmu + b * k;
  T* ol = gL + b * k * k;
  for (long long i = 0; i < k; ++i) {
    om[i] = g[i] + c * m[i];
    const T* row = l + i * k;
    T* orow = ol + i * k;
    for (long long j = 0; j < i; ++j) orow[j] = g[i] * e[j] + c * row[j];
    orow[i] = g[i] * e[i] + c * (row[i] - T(1) / row[i]);
    for (long long j = i + 1; j < k; ++j) orow[j] = T(0);
  }
  if (geps != nullptr) {
    T* oe = geps + b * k;
    for (long long j = 0; j < k; ++j) {
      T acc = 0;
      for (long long i = j; i < k; ++i) acc += l[i * k + j] * g[i];
      oe[j] = acc;
    }
  }
}

void check_launch(const char* what) {
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) {
    throw std::runtime_error(std::string("vaecore._cuda.") + what + ": " + cudaGetErrorString(err));
  }
}

template <typename T>
T* ptr(std::uintptr_t p) {
  return reinterpret_cast<T*>(p);
}

}  // namespace

void full_cov_forward(std::uintptr_t mu, std::uintptr_t L, std::uintptr_t eps, std::uintptr_t z,
                      std::uintptr_t kl, std::uintptr_t status, std::int64_t B, std::int64_t k,
                      bool is_double, std::uintptr_t stream) {
  if (B <= 0) return;
  const unsigned blocks = static_cast<unsigned>((B + kThreads - 1) / kThreads);
  auto s = reinterpret_cast<cudaStream_t>(stream);
  auto st = ptr<long long>(status);
  if (is_double) {
    forward_kernel<double><<<blocks, kThreads, 0, s>>>(ptr<const double>(mu), ptr<const double>(L),
                                                       ptr<const double>(eps), ptr<double>(z),
                                                       ptr<double>(kl), st, B, k);
  } else {
    forward_kernel<float><<<blocks, kThreads, 0, s>>>(ptr<const float>(mu), ptr<const float>(L),
                                                      ptr<const float>(eps), ptr<float>(z),
                                                      ptr<float>(kl), st, B, k);
  }
  check_launch("full_cov_forward");
}

void full_cov_backward(std::uintptr_t mu, std::uintptr_t L, std::uintptr_t eps, std::uintptr_t gz,
                       std::uintptr_t gkl, std::uintptr_t gmu, std::uintptr_t gL,
                       std::uintptr_t geps, std::int64_t B, std::int64_t k, bool is_double,
                       std::uintptr_t stream) {
  if (B <= 0) return;
  const unsigned blocks = static_cast<unsigned>((B + kThreads - 1) / kThreads);
  auto s = reinterpret_cast<cudaStream_t>(stream);
  if (is_double) {
    backward_kernel<double><<<blocks, kThreads, 0, s>>>(
        ptr<const double>(mu), ptr<const double>(L), ptr<const double>(eps), ptr<const double>(gz),
        ptr<const double>(gkl), ptr<double>(gmu), ptr<double>(gL), ptr<double>(geps), B, k);
  } else {
    backward_kernel<float><<<blocks, kThreads, 0, s>>>(
        ptr<const float>(mu), ptr<const float>(L), ptr<const float>(eps), ptr<const float>(gz),
        ptr<const float>(gkl), ptr<float>(gmu), ptr<float>(gL), ptr<float>(geps), B, k);
  }
  check_launch("full_cov_backward");
}

}  // namespace vaecore_cuda
