#pragma once
// Helpers shared by the kafka_protocol tests: hex, fixtures, a random filler and a description
// linter (both driven by the same message descriptions as the codec), and iteration over every
// described message type.
#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/kafka/protocol/codec_impl.h"
#include "common/kafka/protocol/protocol.h"

namespace tributary::kafka::protocol::test {

inline std::vector<uint8_t> from_hex(std::string_view text) {
  std::vector<uint8_t> out;
  int hi = -1;
  bool comment = false;
  for (char c : text) {
    if (comment) {
      if (c == '\n') comment = false;
      continue;
    }
    if (c == '#') {
      comment = true;
      continue;
    }
    int d = -1;
    if (c >= '0' && c <= '9') d = c - '0';
    if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    if (d < 0) continue;  // whitespace and separators
    if (hi < 0) {
      hi = d;
    } else {
      out.push_back(static_cast<uint8_t>(hi * 16 + d));
      hi = -1;
    }
  }
  return out;
}

inline std::string to_hex(byte_span b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (uint8_t x : b) {
    s += digits[x >> 4];
    s += digits[x & 0xf];
  }
  return s;
}

// The error of a failed result as text, "ok" otherwise (safe in doctest messages, which are also
// evaluated for passing checks when run with -s).
template <class T>
std::string error_text(const tl::expected<T, std::error_code>& r) {
  return r ? "ok" : r.error().message();
}
template <class T>
std::string error_text(const tl::expected<T, request_error>& r) {
  return r ? "ok" : r.error().error.message();
}

inline std::filesystem::path fixture_dir() {
  return std::filesystem::path(TRIB_SOURCE_DIR) / "tests/unit/kafka_protocol/fixtures";
}

// A captured request frame (without its size prefix), from fixtures/<name>.hex.
inline std::vector<uint8_t> load_fixture(const std::string& name) {
  std::ifstream in(fixture_dir() / (name + ".hex"));
  if (!in) throw std::runtime_error("missing fixture " + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return from_hex(ss.str());
}

// Calls f.template operator()<T>() for every alternative T of a variant.
template <class Variant, class F>
void for_each_type(F&& f) {
  [&]<size_t... I>(std::index_sequence<I...>) {
    (f.template operator()<std::variant_alternative_t<I, Variant>>(), ...);
  }
  (std::make_index_sequence<std::variant_size_v<Variant>>());
}

// Fills the fields of a message that exist at one version with random values (nulls only where
// that version allows them). Records point into `arena`, which must outlive the message.
class filler {
 public:
  filler(std::mt19937_64& rng, int16_t version, bool flexible, std::deque<std::vector<uint8_t>>& arena)
      : rng_(rng), version_(version), flexible_(flexible), arena_(arena) {}

  template <class T>
  void operator()(T& value, const char*, const field_spec& spec = {}) {
    if (!spec.in(version_)) return;
    if (spec.tag >= 0 && !flexible_) return;
    fill(value, spec);
  }

  template <class T>
  void fill(T& value, const field_spec& spec) {
    using detail::is_optional;
    using detail::is_vector;
    if constexpr (std::is_same_v<T, bool>) {
      value = (rng_() & 1) != 0;
    } else if constexpr (std::is_enum_v<T>) {
      value = static_cast<T>(static_cast<std::underlying_type_t<T>>(pick_int() % 100));
    } else if constexpr (std::is_integral_v<T>) {
      value = static_cast<T>(pick_int());
    } else if constexpr (std::is_same_v<T, double>) {
      value = static_cast<double>(pick_int()) / 3.0;
    } else if constexpr (std::is_same_v<T, uuid>) {
      for (auto& b : value.value) b = static_cast<uint8_t>(rng_());
    } else if constexpr (std::is_same_v<T, std::string>) {
      value.assign(pick_length(), 'a');
      for (auto& c : value) c = static_cast<char>('a' + rng_() % 26);
    } else if constexpr (std::is_same_v<T, bytes>) {
      value.resize(pick_length());
      for (auto& b : value) b = static_cast<uint8_t>(rng_());
    } else if constexpr (std::is_same_v<T, records_view>) {
      auto& buf = arena_.emplace_back(pick_length());
      for (auto& b : buf) b = static_cast<uint8_t>(rng_());
      value.data = buf;
    } else if constexpr (is_vector<T>::value) {
      value.resize(depth_ > 3 ? 0 : rng_() % 4);
      ++depth_;
      for (auto& e : value) fill(e, field_spec{});
      --depth_;
    } else if constexpr (is_optional<T>::value) {
      if (version_ >= spec.nullable_from && rng_() % 4 == 0) {
        value.reset();
      } else {
        value.emplace();
        fill(*value, spec);
      }
    } else if constexpr (described<T>) {
      ++depth_;
      T::fields(value, *this);
      --depth_;
    } else {
      static_assert(detail::dependent_false<T>);
    }
  }

 private:
  int64_t pick_int() {
    switch (rng_() % 4) {
      case 0: return 0;
      case 1: return -1;
      case 2: return static_cast<int64_t>(rng_() % 1000);
      default: return static_cast<int64_t>(rng_());
    }
  }
  size_t pick_length() {
    switch (rng_() % 8) {
      case 0: return 0;
      case 1: return 127 + rng_() % 300;  // two-byte uvarint lengths, and > 255 for int16 lengths
      default: return rng_() % 12;
    }
  }

  std::mt19937_64& rng_;
  int16_t version_;
  bool flexible_;
  std::deque<std::vector<uint8_t>>& arena_;
  int depth_ = 0;
};

// Checks a description against the rules of schema.h and the API's version range. Walks nested
// struct types through default-constructed prototypes.
class linter {
 public:
  linter(const api_info& api, std::string path, std::vector<std::string>& problems)
      : api_(api), path_(std::move(path)), problems_(problems) {}

  template <class T>
  void operator()(const T& value, const char* name, const field_spec& spec = {}) {
    using detail::is_optional;
    const std::string where = path_ + "." + name;
    if (spec.min > spec.max) problem(where, "min > max");
    if (spec.min > api_.max_version) problem(where, "exists in no described version");
    if (spec.tag >= 0) {
      if (spec.min < api_.first_flexible) problem(where, "tagged before the first flexible version");
      if (spec.tag <= last_tag_) problem(where, "tags not in ascending order");
      last_tag_ = spec.tag;
      if (!detail::is_tag_default(value, spec)) problem(where, "member default differs from tag_default");
    }
    if constexpr (is_optional<T>::value) {
      if (!value && spec.nullable_from > spec.min)
        problem(where, "default null is not encodable in every version");
      if (spec.nullable_from > api_.max_version) problem(where, "never nullable: use a plain member");
    } else {
      if (spec.nullable_from != 0) problem(where, "nullable_from on a member that cannot be null");
    }
    if (spec.tag < 0 && spec.tag_default != 0) problem(where, "tag_default on an untagged field");
    walk_type<T>(where);
  }

 private:
  template <class T>
  void walk_type(const std::string& where) {
    using detail::is_optional;
    using detail::is_vector;
    if constexpr (is_optional<T>::value) {
      walk_type<typename T::value_type>(where);
    } else if constexpr (is_vector<T>::value && !std::is_same_v<T, bytes>) {
      walk_type<typename T::value_type>(where + "[]");
    } else if constexpr (described<T>) {
      const T prototype{};
      linter nested(api_, where, problems_);
      T::fields(prototype, nested);
    }
  }
  void problem(const std::string& where, const char* what) { problems_.push_back(where + ": " + what); }

  const api_info& api_;
  std::string path_;
  std::vector<std::string>& problems_;
  int32_t last_tag_ = -1;
};

}  // namespace tributary::kafka::protocol::test
