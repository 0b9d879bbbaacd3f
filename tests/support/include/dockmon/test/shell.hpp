// Test support: run a shell command (the docker CLI, sqlite3) and take its output, as the independent
// witness beside the code under test.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace dockmon::test {

struct shell_result {
  int status = -1;  // the exit code, -1 when it did not run or was killed
  std::string out;  // stdout and stderr, trailing newlines and spaces removed
};

inline shell_result sh(const std::string& command) {
  shell_result r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
  int raw = ::pclose(pipe);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == ' ')) r.out.pop_back();
  return r;
}

}  // namespace dockmon::test
