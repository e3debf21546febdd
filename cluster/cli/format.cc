#include "cluster/cli/format.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cluster/cli/common.h"
#include "common/assert.h"

namespace tributary::cluster::cli {
namespace {

void push_literal(record_format& f, std::string_view text) {
  if (!f.tokens.empty() && f.tokens.back().field == format_field::literal) {
    f.tokens.back().literal.append(text);
  } else {
    f.tokens.push_back({format_field::literal, std::string(text)});
  }
}

std::optional<format_field> directive(char c) {
  switch (c) {
    case 't': return format_field::topic;
    case 'p': return format_field::partition;
    case 'o': return format_field::offset;
    case 'T': return format_field::timestamp;
    case 'k': return format_field::key;
    case 'v': return format_field::value;
    case 'K': return format_field::key_size;
    case 'V': return format_field::value_size;
    case 'h': return format_field::headers;
    default: return std::nullopt;
  }
}

std::optional<char> escape(char c) {
  switch (c) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    case '\\': return '\\';
    default: return std::nullopt;
  }
}

int64_t size_or_minus_one(const std::optional<std::string_view>& v) {
  return v ? static_cast<int64_t>(v->size()) : -1;
}

// Sets `name` (a string) or `name_base64` for bytes that are not UTF-8; null stays null.
void put_bytes(nlohmann::json& j, const std::string& name, const std::optional<std::string_view>& bytes) {
  if (!bytes) {
    j[name] = nullptr;
  } else if (is_valid_utf8(*bytes)) {
    j[name] = std::string(*bytes);
  } else {
    j[name + "_base64"] = base64_encode(*bytes);
  }
}

}  // namespace

result<record_format> parse_format(std::string_view text) {
  if (text.size() > k_format_bytes_max) return fail(errc::bad_format);
  record_format f;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '%' && c != '\\') {
      const size_t next = text.find_first_of("%\\", i);
      const size_t end = next == std::string_view::npos ? text.size() : next;
      push_literal(f, text.substr(i, end - i));
      i = end - 1;
      continue;
    }
    if (i + 1 == text.size()) return fail(errc::bad_format);
    const char d = text[++i];
    if (c == '\\') {
      const auto e = escape(d);
      if (!e) return fail(errc::bad_format);
      push_literal(f, std::string_view(&*e, 1));
    } else if (d == '%') {
      push_literal(f, "%");
    } else {
      const auto field = directive(d);
      if (!field) return fail(errc::bad_format);
      f.tokens.push_back({*field, {}});
    }
  }
  return f;
}

void render_record(const record_format& format, const record_view& r, std::string& out) {
  for (const format_token& t : format.tokens) {
    switch (t.field) {
      case format_field::literal: out.append(t.literal); break;
      case format_field::topic: out.append(r.topic); break;
      case format_field::partition: fmt::format_to(std::back_inserter(out), "{}", r.partition); break;
      case format_field::offset: fmt::format_to(std::back_inserter(out), "{}", r.offset); break;
      case format_field::timestamp:
        fmt::format_to(std::back_inserter(out), "{}", r.timestamp_ms.value_or(-1));
        break;
      case format_field::key:
        if (r.key) out.append(*r.key);
        break;
      case format_field::value:
        if (r.value) out.append(*r.value);
        break;
      case format_field::key_size:
        fmt::format_to(std::back_inserter(out), "{}", size_or_minus_one(r.key));
        break;
      case format_field::value_size:
        fmt::format_to(std::back_inserter(out), "{}", size_or_minus_one(r.value));
        break;
      case format_field::headers:
        for (size_t i = 0; i < r.headers.size(); ++i) {
          if (i > 0) out.push_back(',');
          out.append(r.headers[i].key);
          if (r.headers[i].value) {
            out.push_back('=');
            out.append(*r.headers[i].value);
          }
        }
        break;
    }
  }
  out.push_back('\n');
}

std::string record_json(const record_view& r) {
  nlohmann::json j;
  j["topic"] = std::string(r.topic);
  j["partition"] = r.partition;
  j["offset"] = r.offset;
  if (r.timestamp_ms) {
    j["timestamp"] = *r.timestamp_ms;
  } else {
    j["timestamp"] = nullptr;
  }
  j["timestamp_type"] = std::string(r.timestamp_type);
  put_bytes(j, "key", r.key);
  put_bytes(j, "value", r.value);
  nlohmann::json headers = nlohmann::json::array();
  for (const header_view& h : r.headers) {
    nlohmann::json jh;
    put_bytes(jh, "key", h.key);
    put_bytes(jh, "value", h.value);
    headers.push_back(std::move(jh));
  }
  j["headers"] = std::move(headers);
  // Every string was checked above (or is base64), so dump cannot meet invalid UTF-8; replace anyway.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool is_valid_utf8(std::string_view text) noexcept {
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

std::string base64_encode(std::string_view bytes) {
  static constexpr char k_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    out.push_back(k_alphabet[(v >> 18) & 63]);
    out.push_back(k_alphabet[(v >> 12) & 63]);
    out.push_back(k_alphabet[(v >> 6) & 63]);
    out.push_back(k_alphabet[v & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out.push_back(k_alphabet[(v >> 18) & 63]);
    out.push_back(k_alphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? k_alphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  TRIB_ASSERT(out.size() == (bytes.size() + 2) / 3 * 4);
  return out;
}

}  // namespace tributary::cluster::cli
