// Atomic, private storage of the permanent token.
#include "token_file.hpp"

#include "dockmon/protocol/registration.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace dockmon::agent {

namespace {
std::runtime_error io_error(const std::string& what, const std::string& path) {
  return std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}
}  // namespace

std::optional<std::string> read_token_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return std::nullopt;
    throw io_error("cannot read the token file", path);
  }
  std::string token;
  std::getline(in, token, '\0');
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty()) return std::nullopt;
  if (token.size() > protocol::max_token_length || !protocol::valid_identifier(token))
    throw std::runtime_error("the token file " + path + " does not hold a valid token; remove it to register again");
  return token;
}

void write_token_file(const std::string& path, const std::string& token) {
  std::filesystem::path target(path);
  auto folder = target.parent_path().empty() ? std::filesystem::path(".") : target.parent_path();
  std::error_code fs_ec;
  std::filesystem::create_directories(folder, fs_ec);
  if (fs_ec) throw std::runtime_error("cannot create the data folder " + folder.string() + ": " + fs_ec.message());

  std::string temp = (folder / (target.filename().string() + ".tmp")).string();
  ::unlink(temp.c_str());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw io_error("cannot create", temp);
  std::string content = token + "\n";
  const char* p = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    auto n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      ::unlink(temp.c_str());
      throw io_error("cannot write", temp);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(temp.c_str());
    throw io_error("cannot sync", temp);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    throw io_error("cannot replace", path);
  }
  int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

}  // namespace dockmon::agent
