#pragma once
// The gateway's password file: one user per line, salted and stretched hashes, never a password.
//
//   # comments and blank lines are ignored
//   sensor-17:$pbkdf2-sha256$100000$<salt, base64>$<hash, base64>
//
// Schemes:
//   $pbkdf2-sha256$<iterations>$<salt>$<hash>  ours: PBKDF2-HMAC-SHA256 (OpenSSL PKCS5_PBKDF2_HMAC),
//                                              16-byte random salt, 32-byte hash; what `passwd` writes
//   $7$<iterations>$<salt>$<hash>              Mosquitto 2.x mosquitto_passwd: PBKDF2-HMAC-SHA512
//   $6$<salt>$<hash>                           Mosquitto 1.x mosquitto_passwd: SHA512(password + salt)
// so an existing Mosquitto password file works unchanged. Base64 is the standard alphabet with '='
// padding. The user name is everything before the first ':' (1 to user_bytes_max bytes, no
// control characters).
//
// Verification recomputes the hash and compares in constant time (CRYPTO_memcmp). An unknown user
// costs the same PBKDF2 run as a known one, so response time does not reveal which users exist.
// PBKDF2 is slow on purpose (milliseconds per check): the MQTT server runs it on a worker thread,
// never on the event loop.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <tl/expected.hpp>

#include "common/bytes.h"

namespace tributary::gateway::auth {

inline constexpr size_t file_bytes_max = 16 << 20;  // a larger password file is refused
inline constexpr size_t users_max = 100000;         // lines with a user
inline constexpr size_t user_bytes_max = 256;
inline constexpr size_t password_bytes_max = 65535;  // MQTT's own limit on binary data
inline constexpr uint32_t iterations_min = 1;        // Mosquitto's default is 101
inline constexpr uint32_t iterations_max = 10'000'000;
inline constexpr uint32_t default_iterations = 100'000;  // for new entries (`passwd --iterations`)
inline constexpr size_t salt_bytes = 16;

enum class scheme : uint8_t { pbkdf2_sha256, pbkdf2_sha512, sha512_salted };

struct password_hash {
  scheme kind = scheme::pbkdf2_sha256;
  uint32_t iterations = default_iterations;  // unused for sha512_salted
  std::vector<uint8_t> salt;
  std::vector<uint8_t> hash;
};

// Parses the part after "user:". The message says what is wrong.
tl::expected<password_hash, std::string> parse_hash(std::string_view text);
std::string format_hash(const password_hash& h);
// A new PBKDF2-SHA256 hash with a random salt (OpenSSL RAND_bytes). Fails only if the random
// generator fails.
tl::expected<password_hash, std::string> make_hash(std::string_view password, uint32_t iterations);
// Recomputes and compares in constant time.
bool verify(const password_hash& h, byte_span password);

// Checks a user name for the file (also used by `passwd`).
std::optional<std::string> check_user_name(std::string_view user);

class password_db {
 public:
  password_db() = default;
  // `origin` names the text in messages ("users.passwd:3: ...").
  static tl::expected<password_db, std::string> parse(std::string_view text, std::string_view origin);
  static tl::expected<password_db, std::string> load(const std::string& path);

  // True when `user` exists and `password` is its password. Unknown users cost as much as known ones.
  bool verify(std::string_view user, byte_span password) const;
  bool contains(std::string_view user) const { return users_.count(std::string(user)) > 0; }
  size_t size() const { return users_.size(); }

 private:
  std::unordered_map<std::string, password_hash> users_;
  password_hash dummy_;  // verified against for unknown users
};

// Reads a whole file of at most file_bytes_max bytes; a missing file is the empty string when
// `missing_ok`.
tl::expected<std::string, std::string> read_text_file(const std::string& path, bool missing_ok);

// The file text with `user` added or its line replaced (other lines, comments included, unchanged).
tl::expected<std::string, std::string> set_user(std::string_view file_text, std::string_view user,
                                                const password_hash& h);
// Writes through a temporary file in the same directory, fsync, rename: readers see the old or the
// new file, never half of one. Mode 0600.
tl::expected<void, std::string> write_file_atomically(const std::string& path, std::string_view text);

}  // namespace tributary::gateway::auth
