// Test support: the test dockerd (scripts/test-env) that engine-backed unit tests run against.
// Without it such a test skips when run on its own; under `make test`, which always starts one and sets
// DOCKMON_TEST_REQUIRE_ENGINE=1, a missing engine is a failure instead of a silent skip.
#pragma once

#include <cstdlib>
#include <string>

namespace dockmon::test {

inline std::string test_engine_host() {
  const char* host = std::getenv("DOCKMON_TEST_DOCKER_HOST");
  return host != nullptr ? host : "";
}

inline bool test_engine_required() {
  const char* required = std::getenv("DOCKMON_TEST_REQUIRE_ENGINE");
  return required != nullptr && std::string(required) == "1";
}

}  // namespace dockmon::test

// Sets `host` to the test engine's address, or skips (fails under make test) when there is none.
// A macro because GTEST_SKIP and FAIL return from the calling function.
#define DOCKMON_TEST_ENGINE_OR_SKIP(host)                                                                     \
  do {                                                                                                        \
    (host) = ::dockmon::test::test_engine_host();                                                             \
    if ((host).empty()) {                                                                                     \
      if (::dockmon::test::test_engine_required())                                                            \
        FAIL() << "DOCKMON_TEST_DOCKER_HOST is not set but DOCKMON_TEST_REQUIRE_ENGINE=1: the test engine is missing"; \
      GTEST_SKIP() << "DOCKMON_TEST_DOCKER_HOST is not set (scripts/test-env start sets up a dockerd)";        \
    }                                                                                                         \
  } while (0)
