// The optional vaecore._cuda module: CUDA kernels over raw device pointers (torch's data_ptr()
// as Python ints) launched on the caller's stream (torch.cuda.current_stream().cuda_stream).
// No libtorch; the Python layer (vaecore/ops/) validates shapes, dtypes and devices first.
#include <pybind11/pybind11.h>

#include "full_cov.cuh"

namespace py = pybind11;

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "vaecore's optional CUDA kernels (raw device pointers + caller's stream, no libtorch).";
  m.def(
      "full_cov_forward",
      [](std::uintptr_t mu, std::uintptr_t L, std::uintptr_t eps, std::uintptr_t z,
         std::uintptr_t kl, std::uintptr_t status, std::int64_t B, std::int64_t k, bool is_double,
         std::uintptr_t stream) {
        py::gil_scoped_release release;
        vaecore_cuda::full_cov_forward(mu, L, eps, z, kl, status, B, k, is_double, stream);
      },
      py::arg("mu"), py::arg("scale_tril"), py::arg("eps"), py::arg("z"), py::arg("kl"),
      py::arg("status"), py::arg("B"), py::arg("k"), py::arg("is_double"), py::arg("stream"),
      "Fused z = mu + L eps and KL(N(mu, LL^T) || N(0, I)) on the device (thesis eq. 3.30-3.31).\n"
      "status: 2 int64 on the device, zeroed; receives (1 bad diagonal | 2 non-finite, sample).");
  m.def(
      "full_cov_backward",
      [](std::uintptr_t mu, std::uintptr_t L, std::uintptr_t eps, std::uintptr_t gz,
         std::uintptr_t gkl, std::uintptr_t gmu, std::uintptr_t gL, std::uintptr_t geps,
         std::int64_t B, std::int64_t k, bool is_double, std::uintptr_t stream) {
        py::gil_scoped_release release;
        vaecore_cuda::full_cov_backward(mu, L, eps, gz, gkl, gmu, gL, geps, B, k, is_double,
                                        stream);
      },
      py::arg("mu"), py::arg("scale_tril"), py::arg("eps"), py::arg("grad_z"), py::arg("grad_kl"),
      py::arg("grad_mu"), py::arg("grad_scale_tril"), py::arg("grad_eps"), py::arg("B"),
      py::arg("k"), py::arg("is_double"), py::arg("stream"),
      "Exact gradients of full_cov_forward on the device; grad_eps = 0 skips that output.");
}
