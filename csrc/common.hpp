// Shared helpers for the vaecore C++ kernels.
//
// Contract of every kernel in csrc/: it works on contiguous numpy buffers of a
// fixed dtype and shape, has no defaults, no string options, no RNG policy and no
// I/O. The Python layer (vaecore/) validates user input first; the checks here
// are a last line of defence and throw std::invalid_argument, which pybind11
// turns into ValueError. Heavy loops release the GIL and run on parallel_for.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace vaecore {

namespace py = pybind11;

// C-contiguous, force-cast numpy array types used by all kernels.
template <typename T>
using carray = py::array_t<T, py::array::c_style | py::array::forcecast>;

// ---------------------------------------------------------------------------
// Self-registration of kernel families: each csrc/<family>.cpp writes
//   VAECORE_REGISTER(family) { m.def(...); }
// and bindings.cpp calls every registered function when _core is imported.
using Registrar = void (*)(py::module_&);
std::vector<std::pair<std::string, Registrar>>& registry();
struct AutoRegister {
  AutoRegister(const char* name, Registrar fn) { registry().emplace_back(name, fn); }
};

#define VAECORE_REGISTER(name)                                                     \
  static void vaecore_register_##name(::vaecore::py::module_& m);                  \
  static ::vaecore::AutoRegister vaecore_autoregister_##name(#name,                \
                                                             &vaecore_register_##name); \
  static void vaecore_register_##name(::vaecore::py::module_& m)

// ---------------------------------------------------------------------------
// Threading: a process-wide thread count (set from Python) and a blocking
// parallel_for over [0, n) in contiguous chunks. No OpenMP, so the module never
// brings a second OpenMP runtime next to torch's.
int num_threads();
void set_num_threads(int n);

template <typename F>
void parallel_for(std::int64_t n, F&& body, std::int64_t min_chunk = 1) {
  if (n <= 0) return;
  std::int64_t workers = std::max<std::int64_t>(1, num_threads());
  workers = std::min<std::int64_t>(workers, (n + min_chunk - 1) / std::max<std::int64_t>(1, min_chunk));
  if (workers <= 1) {
    body(std::int64_t{0}, n);
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(workers - 1));
  std::exception_ptr error = nullptr;
  std::atomic<bool> failed{false};
  const std::int64_t chunk = (n + workers - 1) / workers;
  auto run = [&](std::int64_t begin, std::int64_t end) {
    try {
      body(begin, end);
    } catch (...) {
      if (!failed.exchange(true)) error = std::current_exception();
    }
  };
  for (std::int64_t w = 1; w < workers; ++w) {
    const std::int64_t begin = w * chunk;
    const std::int64_t end = std::min(n, begin + chunk);
    if (begin >= end) break;
    pool.emplace_back(run, begin, end);
  }
  run(0, std::min(n, chunk));
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

// ---------------------------------------------------------------------------
// Contract checks (std::invalid_argument -> ValueError).
inline void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

// Same, for checks inside loops: the message is built only when the check fails.
template <typename Message>
inline void require_lazy(bool ok, Message&& message) {
  if (!ok) throw std::invalid_argument(message());
}

template <typename T>
inline void require_ndim(const carray<T>& a, py::ssize_t ndim, const char* func, const char* name) {
  if (a.ndim() != ndim)
    throw std::invalid_argument(std::string(func) + ": " + name + " must have " +
                                std::to_string(ndim) + " dimensions; got " +
                                std::to_string(a.ndim()));
}

}  // namespace vaecore
