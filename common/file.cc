#include "common/file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace tributary {

namespace {
std::error_code last_error() { return {errno, std::system_category()}; }
}  // namespace

result<void> fsync_directory(const std::filesystem::path& dir) {
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return fail(last_error());
  const bool ok = ::fsync(dfd) == 0;
  auto ec = last_error();
  ::close(dfd);
  if (!ok) return fail(ec);
  return {};
}

result<void> write_file_durably(const std::filesystem::path& file, byte_span data) {
  auto tmp = file;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(last_error());
  const uint8_t* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto ec = last_error();
      ::close(fd);
      return fail(ec);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    auto ec = last_error();
    ::close(fd);
    return fail(ec);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), file.c_str()) != 0) return fail(last_error());
  auto parent = file.parent_path();
  return fsync_directory(parent.empty() ? std::filesystem::path(".") : parent);
}

result<std::string> read_small_file(const std::filesystem::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(last_error());
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto ec = last_error();
      ::close(fd);
      return fail(ec);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace tributary
