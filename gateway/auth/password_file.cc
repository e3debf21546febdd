#include "gateway/auth/password_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace tributary::gateway::auth {
namespace {

constexpr std::string_view b64_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(byte_span in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = uint32_t{in[i]} << 16 | uint32_t{in[i + 1]} << 8 | in[i + 2];
    out += b64_alphabet[v >> 18 & 63];
    out += b64_alphabet[v >> 12 & 63];
    out += b64_alphabet[v >> 6 & 63];
    out += b64_alphabet[v & 63];
  }
  if (size_t rest = in.size() - i; rest > 0) {
    uint32_t v = uint32_t{in[i]} << 16 | (rest == 2 ? uint32_t{in[i + 1]} << 8 : 0);
    out += b64_alphabet[v >> 18 & 63];
    out += b64_alphabet[v >> 12 & 63];
    out += rest == 2 ? b64_alphabet[v >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::vector<uint8_t>> base64_decode(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::vector<uint8_t> out;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    uint32_t v = 0;
    int pad = 0;
    for (size_t j = 0; j < 4; ++j) {
      char c = in[i + j];
      if (c == '=') {
        // Padding only at the very end, at most two.
        if (i + 4 != in.size() || j < 2) return std::nullopt;
        ++pad;
        v <<= 6;
        continue;
      }
      if (pad > 0) return std::nullopt;
      auto pos = b64_alphabet.find(c);
      if (pos == std::string_view::npos) return std::nullopt;
      v = v << 6 | static_cast<uint32_t>(pos);
    }
    out.push_back(static_cast<uint8_t>(v >> 16));
    if (pad < 2) out.push_back(static_cast<uint8_t>(v >> 8));
    if (pad < 1) out.push_back(static_cast<uint8_t>(v));
  }
  return out;
}

std::vector<uint8_t> compute(const password_hash& h, byte_span password) {
  std::vector<uint8_t> out(h.hash.size());
  if (h.kind == scheme::sha512_salted) {
    // Mosquitto 1.x: SHA512(password || salt).
    std::vector<uint8_t> digest(EVP_MAX_MD_SIZE);
    unsigned len = 0;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha512(), nullptr) == 1 &&
              EVP_DigestUpdate(ctx, password.data(), password.size()) == 1 &&
              EVP_DigestUpdate(ctx, h.salt.data(), h.salt.size()) == 1 &&
              EVP_DigestFinal_ex(ctx, digest.data(), &len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) return {};
    digest.resize(len);
    return digest;
  }
  const EVP_MD* md = h.kind == scheme::pbkdf2_sha256 ? EVP_sha256() : EVP_sha512();
  // An empty password is passed as a valid pointer with length 0.
  static const char empty = 0;
  const char* pass = password.empty() ? &empty : reinterpret_cast<const char*>(password.data());
  if (PKCS5_PBKDF2_HMAC(pass, static_cast<int>(password.size()), h.salt.data(),
                        static_cast<int>(h.salt.size()), static_cast<int>(h.iterations), md,
                        static_cast<int>(out.size()), out.data()) != 1) {
    return {};
  }
  return out;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    if (at == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, at - start));
    start = at + 1;
  }
}

std::string_view trim_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

bool is_skipped(std::string_view line) {
  auto first = line.find_first_not_of(" \t");
  return first == std::string_view::npos || line[first] == '#';
}

}  // namespace

tl::expected<password_hash, std::string> parse_hash(std::string_view text) {
  auto parts = split(text, '$');
  // "$a$b$c$d" splits into "", a, b, c, d.
  if (parts.size() < 4 || !parts[0].empty())
    return tl::unexpected(std::string("expected $pbkdf2-sha256$<iterations>$<salt>$<hash>"));
  password_hash h;
  size_t next = 2;
  if (parts[1] == "pbkdf2-sha256") {
    h.kind = scheme::pbkdf2_sha256;
  } else if (parts[1] == "7") {
    h.kind = scheme::pbkdf2_sha512;
  } else if (parts[1] == "6") {
    h.kind = scheme::sha512_salted;
    next = 2;
  } else {
    return tl::unexpected(
        fmt::format("unknown hash scheme \"${}$\" (known: $pbkdf2-sha256$, $7$, $6$)", parts[1]));
  }
  const size_t expected_parts = h.kind == scheme::sha512_salted ? 4 : 5;
  if (parts.size() != expected_parts)
    return tl::unexpected(fmt::format("expected {} '$' fields", expected_parts - 1));
  if (h.kind != scheme::sha512_salted) {
    std::string_view it = parts[2];
    uint32_t n = 0;
    auto [p, ec] = std::from_chars(it.data(), it.data() + it.size(), n);
    if (ec != std::errc() || p != it.data() + it.size() || n < iterations_min || n > iterations_max) {
      return tl::unexpected(
          fmt::format("iterations \"{}\" is not an integer in [{}, {}]", it, iterations_min, iterations_max));
    }
    h.iterations = n;
    next = 3;
  }
  auto salt = base64_decode(parts[next]);
  if (!salt || salt->empty()) return tl::unexpected(std::string("the salt is not base64"));
  auto hash = base64_decode(parts[next + 1]);
  if (!hash) return tl::unexpected(std::string("the hash is not base64"));
  const size_t want = h.kind == scheme::pbkdf2_sha256 ? 32 : 64;
  if (hash->size() != want)
    return tl::unexpected(fmt::format("the hash is {} bytes, expected {}", hash->size(), want));
  h.salt = std::move(*salt);
  h.hash = std::move(*hash);
  return h;
}

std::string format_hash(const password_hash& h) {
  switch (h.kind) {
    case scheme::pbkdf2_sha256:
      return fmt::format("$pbkdf2-sha256${}${}${}", h.iterations, base64_encode(h.salt),
                         base64_encode(h.hash));
    case scheme::pbkdf2_sha512:
      return fmt::format("$7${}${}${}", h.iterations, base64_encode(h.salt), base64_encode(h.hash));
    case scheme::sha512_salted: return fmt::format("$6${}${}", base64_encode(h.salt), base64_encode(h.hash));
  }
  return {};
}

tl::expected<password_hash, std::string> make_hash(std::string_view password, uint32_t iterations) {
  if (iterations < iterations_min || iterations > iterations_max)
    return tl::unexpected(fmt::format("iterations must be in [{}, {}]", iterations_min, iterations_max));
  password_hash h;
  h.kind = scheme::pbkdf2_sha256;
  h.iterations = iterations;
  h.salt.resize(salt_bytes);
  if (RAND_bytes(h.salt.data(), static_cast<int>(h.salt.size())) != 1)
    return tl::unexpected(std::string("the random generator failed"));
  h.hash.resize(32);
  auto computed = compute(h, byte_span(reinterpret_cast<const uint8_t*>(password.data()), password.size()));
  if (computed.size() != 32) return tl::unexpected(std::string("PBKDF2 failed"));
  h.hash = std::move(computed);
  return h;
}

bool verify(const password_hash& h, byte_span password) {
  if (password.size() > password_bytes_max) return false;
  auto computed = compute(h, password);
  if (computed.size() != h.hash.size() || computed.empty()) return false;
  return CRYPTO_memcmp(computed.data(), h.hash.data(), computed.size()) == 0;
}

std::optional<std::string> check_user_name(std::string_view user) {
  if (user.empty()) return std::string("the user name is empty");
  if (user.size() > user_bytes_max)
    return fmt::format("the user name is longer than {} bytes", user_bytes_max);
  for (char c : user) {
    auto u = static_cast<unsigned char>(c);
    if (c == ':' || u < 0x20 || u == 0x7F)
      return std::string("the user name holds ':' or a control character");
  }
  return std::nullopt;
}

tl::expected<password_db, std::string> password_db::parse(std::string_view text, std::string_view origin) {
  if (text.size() > file_bytes_max)
    return tl::unexpected(fmt::format("{}: larger than the limit of {} bytes", origin, file_bytes_max));
  password_db db;
  size_t line_no = 0;
  for (std::string_view raw : split(text, '\n')) {
    ++line_no;
    std::string_view line = trim_cr(raw);
    if (is_skipped(line)) continue;
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      return tl::unexpected(fmt::format("{}:{}: expected user:hash", origin, line_no));
    std::string_view user = line.substr(0, colon);
    if (auto bad = check_user_name(user))
      return tl::unexpected(fmt::format("{}:{}: {}", origin, line_no, *bad));
    auto h = parse_hash(line.substr(colon + 1));
    if (!h) return tl::unexpected(fmt::format("{}:{}: user \"{}\": {}", origin, line_no, user, h.error()));
    if (!db.users_.emplace(std::string(user), std::move(*h)).second)
      return tl::unexpected(fmt::format("{}:{}: user \"{}\" appears twice", origin, line_no, user));
    if (db.users_.size() > users_max)
      return tl::unexpected(fmt::format("{}: more than {} users", origin, users_max));
  }
  // Unknown users are checked against this, at the cost of a real entry.
  db.dummy_.kind = scheme::pbkdf2_sha256;
  db.dummy_.iterations = default_iterations;
  db.dummy_.salt.assign(salt_bytes, 0x5A);
  db.dummy_.hash.assign(32, 0);
  if (!db.users_.empty()) {
    const auto& any = db.users_.begin()->second;
    db.dummy_.kind = any.kind;
    db.dummy_.iterations = any.iterations;
    db.dummy_.hash.assign(any.hash.size(), 0);
  }
  return db;
}

tl::expected<password_db, std::string> password_db::load(const std::string& path) {
  auto text = read_text_file(path, false);
  if (!text) return tl::unexpected(text.error());
  return parse(*text, path);
}

bool password_db::verify(std::string_view user, byte_span password) const {
  auto it = users_.find(std::string(user));
  if (it == users_.end()) {
    (void)auth::verify(dummy_, password);  // same cost as a known user
    return false;
  }
  return auth::verify(it->second, password);
}

tl::expected<std::string, std::string> read_text_file(const std::string& path, bool missing_ok) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT && missing_ok) return std::string();
    return tl::unexpected(fmt::format("{}: cannot open: {}", path, std::strerror(e)));
  }
  std::string text;
  char buf[64 * 1024];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return tl::unexpected(fmt::format("{}: cannot read: {}", path, std::strerror(e)));
    }
    if (n == 0) break;
    if (text.size() + static_cast<size_t>(n) > file_bytes_max) {
      ::close(fd);
      return tl::unexpected(fmt::format("{}: larger than the limit of {} bytes", path, file_bytes_max));
    }
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

tl::expected<std::string, std::string> set_user(std::string_view file_text, std::string_view user,
                                                const password_hash& h) {
  if (auto bad = check_user_name(user)) return tl::unexpected(*bad);
  std::string out;
  bool replaced = false;
  auto lines = split(file_text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();  // the final newline
  for (std::string_view raw : lines) {
    std::string_view line = trim_cr(raw);
    if (!is_skipped(line)) {
      auto colon = line.find(':');
      if (colon != std::string_view::npos && line.substr(0, colon) == user) {
        if (replaced) continue;  // a duplicate: keep one line
        out += fmt::format("{}:{}\n", user, format_hash(h));
        replaced = true;
        continue;
      }
    }
    out += raw;
    out += '\n';
  }
  if (!replaced) out += fmt::format("{}:{}\n", user, format_hash(h));
  return out;
}

tl::expected<void, std::string> write_file_atomically(const std::string& path, std::string_view text) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return tl::unexpected(fmt::format("{}: cannot create: {}", tmp, std::strerror(errno)));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return tl::unexpected(fmt::format("{}: cannot write: {}", tmp, std::strerror(e)));
    }
    done += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  const int sync_errno = errno;
  const bool closed = ::close(fd) == 0;
  if (!synced || !closed) {
    int e = synced ? errno : sync_errno;
    ::unlink(tmp.c_str());
    return tl::unexpected(fmt::format("{}: cannot sync: {}", tmp, std::strerror(e)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return tl::unexpected(fmt::format("{}: cannot rename to {}: {}", tmp, path, std::strerror(e)));
  }
  return {};
}

}  // namespace tributary::gateway::auth
