#pragma once
// Typed configuration from JSON files, declared once per daemon.
//
// A daemon keeps its settings in a plain struct whose initial values are the defaults, and binds
// every member to a dotted key with a one-line description:
//
//   struct broker_config { std::string data_dir = "/var/lib/tributary"; uint64_t segment_bytes = 1 << 30;
//                          compression codec = compression::none; ... };
//
//   void declare(config::schema& s, broker_config& c) {
//     s.add("storage.data_dir", c.data_dir, "Directory holding the partition logs.");
//     s.add("storage.segment_bytes", c.segment_bytes, "Roll a segment at this size.",
//           {.min = 1 << 20, .max = 1ull << 32});
//     s.add_enum("storage.compression", c.codec,
//                {{"none", compression::none}, {"lz4", compression::lz4}}, "Codec of new segments.");
//   }
//
// Then `load_file("broker.json")` fills the struct from `{"storage": {"segment_bytes": 1048576}}`,
// `set("storage.data_dir", "/tmp/x", "--data-dir")` applies a command-line override,
// `effective_json()` prints every key with defaults filled in (it loads back unchanged), and
// `describe()` lists every key as a markdown table for --help and the docs.
//
// Errors are `config_error`: an errc in a std::error_code plus a complete human message that names
// the origin (file name or command-line flag) and the key path, e.g.
//   broker.json: key "storage.segment_bytes": expected an integer, got string "big"
//   broker.json: unknown key "storge" (did you mean "storage"?)
//   broker.json:3:14: invalid JSON: syntax error while parsing object ...
// A load or set that fails changes nothing: every value is checked before any is stored.
//
// The file is JSON; `//` and `/* */` comments are allowed so shipped configs can explain themselves.
// Keys are nested objects (a key containing '.' is never valid). Limits: text_bytes_max of text,
// nesting_depth_max levels of objects/arrays, no duplicate keys.
//
// The schema binds references: the bound struct must outlive the schema and must not move.
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "common/assert.h"
#include "common/result.h"

namespace tributary::config {

// Keys keep the order of the file and, in effective_json(), the order of declaration.
using json = nlohmann::ordered_json;

inline constexpr size_t text_bytes_max = size_t{1} << 20;  // a config file larger than this is refused
inline constexpr size_t nesting_depth_max = 32;            // objects/arrays nested deeper are refused

enum class errc {
  file_not_found = 1,  // the file does not exist
  read_failed,         // the file exists but cannot be opened or read (permissions, a directory, ...)
  too_large,           // more than text_bytes_max
  invalid_json,        // not JSON (message has line:column)
  too_deep,            // nesting deeper than nesting_depth_max
  duplicate_key,       // the same key twice in one object
  unknown_key,         // a key the schema does not declare
  wrong_type,          // a value of the wrong JSON type, or text that does not parse as the key's type
  out_of_range,        // a number outside the key's range
  bad_value,           // a string that is not one of an enum's names; a malformed key=value
};
inline std::error_code make_error_code(errc e) noexcept { return to_error_code(e); }

}  // namespace tributary::config

template <>
struct tributary::errc_info<tributary::config::errc> {
  static constexpr const char* name = "config";
  static const char* message(tributary::config::errc e) noexcept;
};
template <>
struct std::is_error_code_enum<tributary::config::errc> : std::true_type {};

namespace tributary::config {

// The error of a config operation. `code` says which kind (compare with config::errc); `message` is
// the full text to show the operator, already prefixed with the origin.
struct config_error {
  std::error_code code;
  std::string message;
};

template <class T = void>
using config_result = tl::expected<T, config_error>;

// JSON text (// comments allowed) parsed with the limits every config file gets: at most
// nesting_depth_max levels, no duplicate keys. Errors name `origin` (and line:column for bad syntax).
// schema::load_string() parses with it; so does a loader that reads part of a file itself.
config_result<json> parse_json(std::string_view text, std::string_view origin);

// The dotted keys whose values differ between two configurations (e.g. two effective_json()): objects
// are descended, anything else (arrays included) is compared whole. Keys of `after` first, in its
// order, then keys present only in `before`. What a daemon's reload (SIGHUP) uses to tell the keys it
// applies live from those that need a restart.
std::vector<std::string> changed_keys(const json& before, const json& after);

// Inclusive range of a numeric key. The defaults are the whole range of the member's type.
template <class T>
struct bounds {
  T min = std::numeric_limits<T>::lowest();
  T max = std::numeric_limits<T>::max();
};

// Integer member types a key can bind to (every width, signed and unsigned; not bool or char).
template <class T>
concept integer_member =
    std::integral<T> && !std::same_as<T, bool> && !std::same_as<T, char> && !std::same_as<T, char8_t> &&
    !std::same_as<T, char16_t> && !std::same_as<T, char32_t> && !std::same_as<T, wchar_t>;

namespace detail {

enum class kind { boolean, integer, number, string, string_list, choice };

// A problem with one value, before the origin and key are prefixed.
struct issue {
  errc code;
  std::string message;
};

// One declared key; built by schema::add*, type-erased so the loader is not a template.
struct field {
  std::string path;
  kind type = kind::string;
  std::string type_name;             // "uint16", "string", ... for describe()
  std::string range_text;            // "[min, max]" for numbers, empty otherwise
  bool narrowed = false;             // the range is narrower than the member type's
  std::vector<std::string> choices;  // the names of an enum
  std::string description;
  json default_value;
  std::function<std::optional<issue>(const json&)> check;  // validates without storing
  std::function<void(const json&)> store;                  // stores a value check() accepted
  std::function<json()> current;                           // the member's value as JSON
};

std::optional<issue> wrong_type(std::string_view expected, const json& got);
issue out_of_range(std::string value, std::string_view range_text);

template <class T, class V>
bool in_bounds(V v, const bounds<T>& b) {
  return std::cmp_greater_equal(v, b.min) && std::cmp_less_equal(v, b.max);
}

template <class T>
std::string integer_type_name() {
  return (std::is_signed_v<T> ? "int" : "uint") + std::to_string(sizeof(T) * 8);
}

}  // namespace detail

class schema {
 public:
  schema() = default;
  schema(const schema&) = delete;
  schema& operator=(const schema&) = delete;
  schema(schema&&) = default;
  schema& operator=(schema&&) = default;

  // Declaring keys. Paths are dot-separated segments of [a-z0-9_]; a path is declared once and is
  // never also a section of another (declaring "http" and "http.listen" is a programming error, as
  // is a default outside its range or an enum default missing from its names: TRIB_ASSERT).
  void add(std::string path, bool& target, std::string description);
  template <integer_member T>
  void add(std::string path, T& target, std::string description, std::type_identity_t<bounds<T>> range = {});
  void add(std::string path, double& target, std::string description, bounds<double> range = {});
  void add(std::string path, std::string& target, std::string description);
  void add(std::string path, std::vector<std::string>& target, std::string description);
  // An enum (or any equality-comparable value) chosen by name from a fixed set.
  template <class E>
  void add_enum(std::string path, E& target, std::vector<std::pair<std::string, E>> choices,
                std::string description);

  // Loads a file over the current values. Keys absent from the file keep their current value.
  config_result<> load_file(const std::string& path);
  // The same from memory; `origin` names the text in error messages (usually the file name).
  config_result<> load_string(std::string_view text, std::string_view origin);

  // Sets one key from text, parsed by the key's type: integers and doubles in decimal, bools as
  // true/false, a list of strings comma-separated ("" is the empty list), an enum by name.
  // `origin` prefixes errors (e.g. the flag "--data-dir").
  config_result<> set(std::string_view path, std::string_view value,
                      std::string_view origin = "command line");
  // The same from "key=value" (for a generic `--set key=value` flag).
  config_result<> set_assignment(std::string_view assignment, std::string_view origin = "--set");

  // Every key with its current value, nested by path, in declaration order.
  json effective_json() const;
  // A markdown table: key, type, default, description; one row per key in declaration order.
  std::string describe() const;
  // The declared paths in declaration order.
  std::vector<std::string> paths() const;

 private:
  void add_field(detail::field f);
  void add_choice_field(std::string path, std::vector<std::string> names,
                        std::function<size_t()> current_index, std::function<void(size_t)> store_index,
                        std::string description);
  const detail::field* find(std::string_view path) const;

  std::vector<detail::field> fields_;
};

template <integer_member T>
void schema::add(std::string path, T& target, std::string description,
                 std::type_identity_t<bounds<T>> range) {
  detail::field f;
  f.path = std::move(path);
  f.type = detail::kind::integer;
  f.type_name = detail::integer_type_name<T>();
  f.range_text = "[" + std::to_string(range.min) + ", " + std::to_string(range.max) + "]";
  f.narrowed = range.min != std::numeric_limits<T>::lowest() || range.max != std::numeric_limits<T>::max();
  f.description = std::move(description);
  f.default_value = target;
  f.check = [range, range_text = f.range_text](const json& j) -> std::optional<detail::issue> {
    if (j.is_number_unsigned()) {
      auto v = j.get<uint64_t>();
      if (detail::in_bounds(v, range)) return std::nullopt;
      return detail::out_of_range(std::to_string(v), range_text);
    }
    if (j.is_number_integer()) {
      auto v = j.get<int64_t>();
      if (detail::in_bounds(v, range)) return std::nullopt;
      return detail::out_of_range(std::to_string(v), range_text);
    }
    return detail::wrong_type("an integer", j);
  };
  f.store = [&target](const json& j) {
    target = j.is_number_unsigned() ? static_cast<T>(j.get<uint64_t>()) : static_cast<T>(j.get<int64_t>());
  };
  f.current = [&target]() { return json(target); };
  TRIB_ASSERT(range.min <= range.max, f.path);
  TRIB_ASSERT(detail::in_bounds(target, range), f.path + ": default outside its range");
  add_field(std::move(f));
}

template <class E>
void schema::add_enum(std::string path, E& target, std::vector<std::pair<std::string, E>> choices,
                      std::string description) {
  std::vector<std::string> names;
  names.reserve(choices.size());
  for (const auto& c : choices) names.push_back(c.first);
  std::vector<E> values;
  values.reserve(choices.size());
  for (auto& c : choices) values.push_back(std::move(c.second));
  add_choice_field(
      std::move(path), std::move(names),
      [&target, values]() -> size_t {
        for (size_t i = 0; i < values.size(); ++i) {
          if (values[i] == target) return i;
        }
        return values.size();
      },
      [&target, values](size_t i) { target = values[i]; }, std::move(description));
}

}  // namespace tributary::config
