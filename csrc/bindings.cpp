// The vaecore._core extension module: threading controls, build information,
// and every kernel family registered through VAECORE_REGISTER (common.hpp).
#include <pybind11/stl.h>

#include "common.hpp"

namespace vaecore {

std::vector<std::pair<std::string, Registrar>>& registry() {
  static std::vector<std::pair<std::string, Registrar>> families;
  return families;
}

namespace {
std::atomic<int> g_num_threads{0};  // 0: not set yet -> hardware concurrency
}

int num_threads() {
  int n = g_num_threads.load();
  if (n <= 0) {
    n = static_cast<int>(std::thread::hardware_concurrency());
    if (n <= 0) n = 1;
  }
  return n;
}

void set_num_threads(int n) {
  if (n < 0) throw std::invalid_argument("set_num_threads: n must be >= 0; got " + std::to_string(n));
  g_num_threads.store(n);
}

}  // namespace vaecore

#ifndef VAECORE_VERSION
#define VAECORE_VERSION "unknown"
#endif

PYBIND11_MODULE(_core, m) {
  using namespace vaecore;
  m.doc() = "vaecore's compiled kernels over plain arrays (C++17, std::thread, no libtorch).";
  m.def("num_threads", &num_threads, "Threads the kernels use (0 set = hardware concurrency).");
  m.def("set_num_threads", &set_num_threads, py::arg("n"),
        "Set the kernels' thread count; 0 restores the default (hardware concurrency).");

  auto& families = registry();
  std::sort(families.begin(), families.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> names;
  for (auto& [name, fn] : families) {
    fn(m);
    names.push_back(name);
  }
  py::dict info;
  info["version"] = VAECORE_VERSION;
#if defined(__clang__)
  info["compiler"] = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  info["compiler"] = std::string("gcc ") + __VERSION__;
#else
  info["compiler"] = "unknown";
#endif
  info["cplusplus"] = static_cast<long>(__cplusplus);
  info["kernel_families"] = names;
  info["hardware_concurrency"] = static_cast<int>(std::thread::hardware_concurrency());
  m.attr("BUILD_INFO") = info;
}
