// Crash-safe file replacement with POSIX calls: the C++ streams cannot fsync.
#include "dockmon/common/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <stdexcept>

namespace dockmon {

namespace {

std::runtime_error io_error(const std::string& what, const std::string& path) {
  return std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

std::string folder_of(const std::string& path) {
  auto folder = std::filesystem::path(path).parent_path();
  return folder.empty() ? std::string(".") : folder.string();
}

bool write_all(int fd, const char* p, std::size_t left) {
  while (left > 0) {
    auto n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return true;
}

// Creates path.tmp with `mode`, lets `fill` write into it, syncs it and renames it over `path`.
void replace_with(const std::string& path, mode_t mode, const std::function<void(int fd, const std::string& temp)>& fill) {
  const auto folder = folder_of(path);
  std::error_code fs_ec;
  std::filesystem::create_directories(folder, fs_ec);
  if (fs_ec) throw std::runtime_error("cannot create the folder " + folder + ": " + fs_ec.message());
  const std::string temp = path + ".tmp";
  ::unlink(temp.c_str());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) throw io_error("cannot create", temp);
  try {
    fill(fd, temp);
  } catch (...) {
    ::close(fd);
    ::unlink(temp.c_str());
    throw;
  }
  // The umask may have narrowed the mode open() was given; an executable must stay executable.
  if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) {
    auto error = io_error("cannot sync", temp);
    ::close(fd);
    ::unlink(temp.c_str());
    throw error;
  }
  if (::close(fd) != 0) {
    ::unlink(temp.c_str());
    throw io_error("cannot close", temp);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    auto error = io_error("cannot replace", path);
    ::unlink(temp.c_str());
    throw error;
  }
  sync_folder(folder);
}

}  // namespace

void write_file_atomically(const std::string& path, std::string_view content, mode_t mode) {
  replace_with(path, mode, [&](int fd, const std::string& temp) {
    if (!write_all(fd, content.data(), content.size())) throw io_error("cannot write", temp);
  });
}

void copy_file_atomically(const std::string& source, const std::string& path, mode_t mode) {
  const int in = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) throw io_error("cannot open", source);
  try {
    replace_with(path, mode, [&](int fd, const std::string& temp) {
      std::array<char, 64 * 1024> buffer{};
      for (;;) {
        auto n = ::read(in, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw io_error("cannot read", source);
        if (n == 0) break;
        if (!write_all(fd, buffer.data(), static_cast<std::size_t>(n))) throw io_error("cannot write", temp);
      }
    });
  } catch (...) {
    ::close(in);
    throw;
  }
  ::close(in);
}

void sync_folder(const std::string& folder) {
  const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return;
  ::fsync(dir);
  ::close(dir);
}

std::optional<std::string> read_small_file(const std::string& path, std::size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw io_error("cannot read", path);
  }
  std::string content;
  std::array<char, 4096> buffer{};
  for (;;) {
    auto n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto error = io_error("cannot read", path);
      ::close(fd);
      throw error;
    }
    if (n == 0) break;
    content.append(buffer.data(), static_cast<std::size_t>(n));
    if (content.size() > max_bytes) {
      ::close(fd);
      throw std::runtime_error(path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  ::close(fd);
  return content;
}

}  // namespace dockmon
