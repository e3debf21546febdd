#include "common/config.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <system_error>
#include <unordered_set>

#include <fmt/format.h>

namespace tributary {

const char* errc_info<config::errc>::message(config::errc e) noexcept {
  switch (e) {
    case config::errc::file_not_found: return "config file not found";
    case config::errc::read_failed: return "config file cannot be read";
    case config::errc::too_large: return "config text too large";
    case config::errc::invalid_json: return "invalid JSON";
    case config::errc::too_deep: return "config nested too deeply";
    case config::errc::duplicate_key: return "duplicate config key";
    case config::errc::unknown_key: return "unknown config key";
    case config::errc::wrong_type: return "config value of the wrong type";
    case config::errc::out_of_range: return "config value out of range";
    case config::errc::bad_value: return "invalid config value";
  }
  return "unknown config error";
}

}  // namespace tributary

namespace tributary::config {
namespace {

constexpr size_t quoted_bytes_max = 80;    // longer strings are cut in messages
constexpr size_t suggest_bytes_max = 128;  // no did-you-mean for longer keys (edit distance is O(n*m))
constexpr size_t json_detail_bytes_max = 200;

config_error make_error(errc code, std::string message) {
  return {make_error_code(code), std::move(message)};
}

// `s` as a JSON string literal (escaped, so any bytes are safe to print), cut to quoted_bytes_max.
std::string quote(std::string_view s) {
  bool cut = s.size() > quoted_bytes_max;
  if (cut) s = s.substr(0, quoted_bytes_max);
  std::string out = json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
  if (cut) out.insert(out.size() - 1, "...");
  return out;
}

bool valid_utf8(std::string_view s) {
  try {
    (void)json(std::string(s)).dump();
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}

// "string \"big\"", "number 1.5", "boolean true", "null", "an array", "an object".
std::string describe_value(const json& j) {
  switch (j.type()) {
    case json::value_t::string: return "string " + quote(j.get_ref<const std::string&>());
    case json::value_t::boolean: return j.get<bool>() ? "boolean true" : "boolean false";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "number " + j.dump();
    case json::value_t::null: return "null";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    default: return j.type_name();
  }
}

std::string join_quoted(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += quote(n);
  }
  return out;
}

config_error key_error(std::string_view origin, std::string_view path, const detail::issue& i) {
  return make_error(i.code, fmt::format("{}: key {}: {}", origin, quote(path), i.message));
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string_view last_segment(std::string_view path) {
  auto dot = path.rfind('.');
  return dot == std::string_view::npos ? path : path.substr(dot + 1);
}

// " (did you mean \"storage\"?)" for a close candidate, else "". A candidate is close when its edit
// distance is small for the key's length, or when it has the same last segment (a key put in the
// wrong section).
std::string suggestion(std::string_view unknown, const std::vector<std::string>& candidates) {
  if (unknown.empty() || unknown.size() > suggest_bytes_max) return {};
  size_t limit = std::clamp<size_t>(unknown.size() / 3, 1, 3);
  const std::string* best = nullptr;
  size_t best_distance = limit + 1;
  for (const auto& c : candidates) {
    size_t d = edit_distance(unknown, c);
    if (d < best_distance) {
      best = &c;
      best_distance = d;
    }
  }
  if (best == nullptr) {
    for (const auto& c : candidates) {
      if (last_segment(c) == last_segment(unknown)) {
        best = &c;
        break;
      }
    }
  }
  return best == nullptr ? std::string() : fmt::format(" (did you mean {}?)", quote(*best));
}

std::string unknown_key_message(std::string_view origin, std::string_view path,
                                const std::vector<std::string>& candidates) {
  return fmt::format("{}: unknown key {}{}", origin, quote(path), suggestion(path, candidates));
}

bool valid_path(std::string_view path) {
  if (path.empty()) return false;
  bool segment_empty = true;
  for (char c : path) {
    if (c == '.') {
      if (segment_empty) return false;
      segment_empty = true;
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') {
      segment_empty = false;
    } else {
      return false;
    }
  }
  return !segment_empty;
}

bool is_section_of(std::string_view section, std::string_view path) {
  return path.size() > section.size() && path.starts_with(section) && path[section.size()] == '.';
}

// Thrown from the parse callback to stop parsing (exceptions are fine while loading config).
struct structure_error {
  errc code;
  std::string message;
};

// Parses with the limits on depth and duplicate keys; errors carry origin and line:column.
config_result<json> parse(std::string_view text, std::string_view origin) {
  struct frame {
    bool object = false;
    std::string key;
    std::unordered_set<std::string> keys;
  };
  std::vector<frame> stack;
  auto path_of = [&stack]() {
    std::string path;
    for (const auto& f : stack) {
      if (!f.object) continue;
      if (!path.empty()) path += '.';
      path += f.key;
    }
    return path;
  };
  json::parser_callback_t callback = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (stack.size() >= nesting_depth_max) {
          throw structure_error{errc::too_deep, fmt::format("{}: nested deeper than {} levels at key {}",
                                                            origin, nesting_depth_max, quote(path_of()))};
        }
        stack.push_back(frame{event == json::parse_event_t::object_start, {}, {}});
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end: stack.pop_back(); break;
      case json::parse_event_t::key:
        stack.back().key = parsed.get<std::string>();
        if (!stack.back().keys.insert(stack.back().key).second) {
          throw structure_error{errc::duplicate_key,
                                fmt::format("{}: duplicate key {}", origin, quote(path_of()))};
        }
        break;
      case json::parse_event_t::value: break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/true,
                       /*ignore_comments=*/true);
  } catch (const structure_error& e) {
    return tl::unexpected(make_error(e.code, e.message));
  } catch (const json::parse_error& e) {
    // e.byte is the 1-based position of the last character read; turn it into line and column.
    size_t pos = std::min(e.byte == 0 ? size_t{0} : e.byte - 1, text.size());
    size_t line =
        1 + static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<ptrdiff_t>(pos), '\n'));
    size_t newline = pos == 0 ? std::string_view::npos : text.rfind('\n', pos - 1);
    size_t column = newline == std::string_view::npos ? pos + 1 : pos - newline;
    std::string_view what = e.what();
    auto at = what.find("column ");
    auto colon = at == std::string_view::npos ? at : what.find(": ", at);
    std::string_view detail = colon == std::string_view::npos ? what : what.substr(colon + 2);
    return tl::unexpected(
        make_error(errc::invalid_json, fmt::format("{}:{}:{}: invalid JSON: {}", origin, line, column,
                                                   detail.substr(0, json_detail_bytes_max))));
  } catch (const json::exception& e) {
    // Errors without a position, such as a number too large for a double.
    std::string_view what = e.what();
    auto bracket = what.find("] ");
    std::string_view detail = bracket == std::string_view::npos ? what : what.substr(bracket + 2);
    return tl::unexpected(
        make_error(errc::invalid_json,
                   fmt::format("{}: invalid JSON: {}", origin, detail.substr(0, json_detail_bytes_max))));
  }
}

// Text from the command line as the JSON value check() expects, or the reason it cannot be one.
tl::expected<json, detail::issue> from_text(const detail::field& f, std::string_view text) {
  auto wrong = [&](std::string_view expected) {
    return tl::unexpected(
        detail::issue{errc::wrong_type, fmt::format("expected {}, got {}", expected, quote(text))});
  };
  if (!valid_utf8(text)) return tl::unexpected(detail::issue{errc::bad_value, "value is not valid UTF-8"});
  const char* first = text.data();
  const char* last = text.data() + text.size();
  switch (f.type) {
    case detail::kind::boolean:
      if (text == "true") return json(true);
      if (text == "false") return json(false);
      return wrong("true or false");
    case detail::kind::integer: {
      std::from_chars_result r{};
      json value;
      if (text.starts_with('-')) {
        int64_t v = 0;
        r = std::from_chars(first, last, v);
        value = v;
      } else {
        uint64_t v = 0;
        r = std::from_chars(first, last, v);
        value = v;
      }
      if (r.ec == std::errc::result_out_of_range && r.ptr == last) {
        return tl::unexpected(detail::out_of_range(std::string(text), f.range_text));
      }
      if (r.ec != std::errc() || r.ptr != last || text.empty()) return wrong("an integer");
      return value;
    }
    case detail::kind::number: {
      double v = 0;
      auto r = std::from_chars(first, last, v, std::chars_format::general);
      if (r.ec == std::errc::result_out_of_range && r.ptr == last) {
        return tl::unexpected(detail::out_of_range(std::string(text), f.range_text));
      }
      if (r.ec != std::errc() || r.ptr != last || text.empty() || !std::isfinite(v)) return wrong("a number");
      return json(v);
    }
    case detail::kind::string:
    case detail::kind::choice: return json(std::string(text));
    case detail::kind::string_list: {
      json list = json::array();
      if (text.empty()) return list;
      size_t start = 0;
      while (true) {
        size_t comma = text.find(',', start);
        list.push_back(std::string(text.substr(start, comma - start)));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
      }
      return list;
    }
  }
  TRIB_ASSERT(false, "unhandled config kind");
}

std::string escape_cell(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

}  // namespace

config_result<json> parse_json(std::string_view text, std::string_view origin) { return parse(text, origin); }

namespace detail {

std::optional<issue> wrong_type(std::string_view expected, const json& got) {
  return issue{errc::wrong_type, fmt::format("expected {}, got {}", expected, describe_value(got))};
}

issue out_of_range(std::string value, std::string_view range_text) {
  return issue{errc::out_of_range, fmt::format("{} is out of range {}", value, range_text)};
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Declaring keys
// ---------------------------------------------------------------------------------------------

void schema::add_field(detail::field f) {
  TRIB_ASSERT(valid_path(f.path), "config key path must be dot-separated [a-z0-9_]+ segments: " + f.path);
  for (const auto& other : fields_) {
    TRIB_ASSERT(other.path != f.path, "config key declared twice: " + f.path);
    TRIB_ASSERT(!is_section_of(other.path, f.path) && !is_section_of(f.path, other.path),
                "config key is also a section: " + f.path + " / " + other.path);
  }
  TRIB_ASSERT(f.check && f.store && f.current);
  TRIB_ASSERT(!f.check(f.default_value), "config default rejected by its own key: " + f.path);
  fields_.push_back(std::move(f));
}

void schema::add(std::string path, bool& target, std::string description) {
  detail::field f;
  f.path = std::move(path);
  f.type = detail::kind::boolean;
  f.type_name = "bool";
  f.description = std::move(description);
  f.default_value = target;
  f.check = [](const json& j) { return j.is_boolean() ? std::nullopt : detail::wrong_type("a boolean", j); };
  f.store = [&target](const json& j) { target = j.get<bool>(); };
  f.current = [&target]() { return json(target); };
  add_field(std::move(f));
}

void schema::add(std::string path, double& target, std::string description, bounds<double> range) {
  TRIB_ASSERT(std::isfinite(range.min) && std::isfinite(range.max) && range.min <= range.max, path);
  TRIB_ASSERT(std::isfinite(target), path + ": default must be finite");
  detail::field f;
  f.path = std::move(path);
  f.type = detail::kind::number;
  f.type_name = "double";
  f.range_text = fmt::format("[{}, {}]", range.min, range.max);
  f.narrowed = range.min != bounds<double>{}.min || range.max != bounds<double>{}.max;
  f.description = std::move(description);
  f.default_value = target;
  f.check = [range, range_text = f.range_text](const json& j) -> std::optional<detail::issue> {
    if (!j.is_number()) return detail::wrong_type("a number", j);
    double v = j.get<double>();
    if (v >= range.min && v <= range.max) return std::nullopt;
    return detail::out_of_range(fmt::format("{}", v), range_text);
  };
  f.store = [&target](const json& j) { target = j.get<double>(); };
  f.current = [&target]() { return json(target); };
  add_field(std::move(f));
}

void schema::add(std::string path, std::string& target, std::string description) {
  detail::field f;
  f.path = std::move(path);
  f.type = detail::kind::string;
  f.type_name = "string";
  f.description = std::move(description);
  f.default_value = target;
  f.check = [](const json& j) { return j.is_string() ? std::nullopt : detail::wrong_type("a string", j); };
  f.store = [&target](const json& j) { target = j.get<std::string>(); };
  f.current = [&target]() { return json(target); };
  add_field(std::move(f));
}

void schema::add(std::string path, std::vector<std::string>& target, std::string description) {
  detail::field f;
  f.path = std::move(path);
  f.type = detail::kind::string_list;
  f.type_name = "list of strings";
  f.description = std::move(description);
  f.default_value = target;
  f.check = [](const json& j) -> std::optional<detail::issue> {
    if (!j.is_array()) return detail::wrong_type("an array of strings", j);
    for (size_t i = 0; i < j.size(); ++i) {
      if (!j[i].is_string()) {
        return detail::issue{errc::wrong_type,
                             fmt::format("element {}: expected a string, got {}", i, describe_value(j[i]))};
      }
    }
    return std::nullopt;
  };
  f.store = [&target](const json& j) { target = j.get<std::vector<std::string>>(); };
  f.current = [&target]() { return json(target); };
  add_field(std::move(f));
}

void schema::add_choice_field(std::string path, std::vector<std::string> names,
                              std::function<size_t()> current_index, std::function<void(size_t)> store_index,
                              std::string description) {
  TRIB_ASSERT(!names.empty(), path);
  for (size_t i = 0; i < names.size(); ++i) {
    TRIB_ASSERT(!names[i].empty() && std::find(names.begin() + static_cast<ptrdiff_t>(i) + 1, names.end(),
                                               names[i]) == names.end(),
                path + ": enum names must be unique and non-empty");
  }
  size_t index = current_index();
  TRIB_ASSERT(index < names.size(), path + ": default is not one of the enum's names");
  detail::field f;
  f.path = std::move(path);
  f.type = detail::kind::choice;
  f.choices = names;
  f.type_name = "one of: ";
  for (size_t i = 0; i < names.size(); ++i) f.type_name += (i == 0 ? "" : ", ") + names[i];
  f.description = std::move(description);
  f.default_value = names[index];
  f.check = [names](const json& j) -> std::optional<detail::issue> {
    std::string list = join_quoted(names);
    if (!j.is_string()) return detail::wrong_type("one of " + list, j);
    if (std::find(names.begin(), names.end(), j.get_ref<const std::string&>()) != names.end())
      return std::nullopt;
    return detail::issue{errc::bad_value,
                         fmt::format("{} is not one of {}", quote(j.get_ref<const std::string&>()), list)};
  };
  f.store = [names, store_index](const json& j) {
    auto it = std::find(names.begin(), names.end(), j.get_ref<const std::string&>());
    TRIB_ASSERT(it != names.end());
    store_index(static_cast<size_t>(it - names.begin()));
  };
  f.current = [names, current_index]() {
    size_t i = current_index();
    TRIB_ASSERT(i < names.size(), "enum member holds a value without a name");
    return json(names[i]);
  };
  add_field(std::move(f));
}

const detail::field* schema::find(std::string_view path) const {
  for (const auto& f : fields_) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

std::vector<std::string> schema::paths() const {
  std::vector<std::string> out;
  out.reserve(fields_.size());
  for (const auto& f : fields_) out.push_back(f.path);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

config_result<> schema::load_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    return tl::unexpected(
        make_error(e == ENOENT ? errc::file_not_found : errc::read_failed,
                   fmt::format("{}: cannot open: {}", path, std::system_category().message(e))));
  }
  std::string text;
  std::vector<char> buffer(64 * 1024);
  while (true) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return tl::unexpected(make_error(
          errc::read_failed, fmt::format("{}: cannot read: {}", path, std::system_category().message(e))));
    }
    if (n == 0) break;
    if (text.size() + static_cast<size_t>(n) > text_bytes_max) {
      ::close(fd);
      return tl::unexpected(make_error(
          errc::too_large, fmt::format("{}: larger than the limit of {} bytes", path, text_bytes_max)));
    }
    text.append(buffer.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  return load_string(text, path);
}

config_result<> schema::load_string(std::string_view text, std::string_view origin) {
  if (text.size() > text_bytes_max) {
    return tl::unexpected(make_error(
        errc::too_large, fmt::format("{}: larger than the limit of {} bytes", origin, text_bytes_max)));
  }
  json doc = TRIB_TRY(parse(text, origin));
  if (!doc.is_object()) {
    return tl::unexpected(make_error(
        errc::wrong_type,
        fmt::format("{}: expected an object at the top level, got {}", origin, describe_value(doc))));
  }

  // Pass 1 checks everything, pass 2 stores: a failed load leaves the struct as it was.
  struct pending {
    const detail::field* field;
    const json* value;
  };
  std::vector<pending> accepted;
  std::vector<std::string> candidates;  // every key and section, for did-you-mean
  for (const auto& f : fields_) {
    candidates.push_back(f.path);
    for (size_t dot = f.path.find('.'); dot != std::string::npos; dot = f.path.find('.', dot + 1)) {
      auto section = f.path.substr(0, dot);
      if (std::find(candidates.begin(), candidates.end(), section) == candidates.end())
        candidates.push_back(section);
    }
  }
  auto is_section = [this](std::string_view path) {
    return std::any_of(fields_.begin(), fields_.end(),
                       [&](const auto& f) { return is_section_of(path, f.path); });
  };
  // Recursion depth is bounded by the depth of the declared paths.
  std::function<std::optional<config_error>(const json&, const std::string&)> walk =
      [&](const json& object, const std::string& prefix) -> std::optional<config_error> {
    for (auto it = object.begin(); it != object.end(); ++it) {
      const std::string& key = it.key();
      std::string path = prefix.empty() ? key : prefix + "." + key;
      bool plain = !key.empty() && key.find('.') == std::string::npos;
      if (const detail::field* f = plain ? find(path) : nullptr) {
        if (auto problem = f->check(it.value())) return key_error(origin, path, *problem);
        accepted.push_back({f, &it.value()});
      } else if (plain && is_section(path)) {
        if (!it.value().is_object())
          return key_error(origin, path, *detail::wrong_type("an object", it.value()));
        if (auto e = walk(it.value(), path)) return e;
      } else {
        return make_error(errc::unknown_key, unknown_key_message(origin, path, candidates));
      }
    }
    return std::nullopt;
  };
  if (auto e = walk(doc, "")) return tl::unexpected(std::move(*e));
  for (const auto& p : accepted) p.field->store(*p.value);
  return {};
}

config_result<> schema::set(std::string_view path, std::string_view value, std::string_view origin) {
  const detail::field* f = find(path);
  if (f == nullptr)
    return tl::unexpected(make_error(errc::unknown_key, unknown_key_message(origin, path, paths())));
  auto j = from_text(*f, value);
  if (!j) return tl::unexpected(key_error(origin, path, j.error()));
  if (auto problem = f->check(*j)) return tl::unexpected(key_error(origin, path, *problem));
  f->store(*j);
  return {};
}

config_result<> schema::set_assignment(std::string_view assignment, std::string_view origin) {
  auto eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return tl::unexpected(make_error(
        errc::bad_value, fmt::format("{}: expected key=value, got {}", origin, quote(assignment))));
  }
  return set(assignment.substr(0, eq), assignment.substr(eq + 1), origin);
}

// ---------------------------------------------------------------------------------------------
// Printing
// ---------------------------------------------------------------------------------------------

json schema::effective_json() const {
  json out = json::object();
  for (const auto& f : fields_) {
    json* node = &out;
    size_t start = 0;
    for (size_t dot = f.path.find('.'); dot != std::string::npos; dot = f.path.find('.', start)) {
      node = &(*node)[f.path.substr(start, dot - start)];
      start = dot + 1;
    }
    (*node)[f.path.substr(start)] = f.current();
  }
  return out;
}

std::string schema::describe() const {
  std::string out = "| key | type | default | description |\n|---|---|---|---|\n";
  for (const auto& f : fields_) {
    std::string type = f.type_name;
    if (f.narrowed) type += " in " + f.range_text;
    out += fmt::format("| `{}` | {} | `{}` | {} |\n", f.path, escape_cell(type),
                       escape_cell(f.default_value.dump(-1, ' ', false, json::error_handler_t::replace)),
                       escape_cell(f.description));
  }
  return out;
}

namespace {

void collect_changes(const json& before, const json& after, const std::string& prefix,
                     std::vector<std::string>& out) {
  for (auto it = after.begin(); it != after.end(); ++it) {
    const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    auto old = before.find(it.key());
    if (old == before.end()) {
      out.push_back(key);
    } else if (it->is_object() && old->is_object()) {
      collect_changes(*old, *it, key, out);
    } else if (*it != *old) {
      out.push_back(key);
    }
  }
  for (auto it = before.begin(); it != before.end(); ++it) {
    if (!after.contains(it.key())) out.push_back(prefix.empty() ? it.key() : prefix + "." + it.key());
  }
}

}  // namespace

std::vector<std::string> changed_keys(const json& before, const json& after) {
  std::vector<std::string> out;
  if (before.is_object() && after.is_object()) {
    collect_changes(before, after, "", out);
  } else if (before != after) {
    out.push_back("");
  }
  return out;
}

}  // namespace tributary::config
