#include "common/http/request_parser.h"

#include <array>

#include "common/assert.h"

namespace tributary::http {

namespace {

// Character classes (RFC 9110 §5.6.2 tchar, §5.5 field-vchar, RFC 3986 pchar).
constexpr std::array<bool, 256> make_class(std::string_view extra, bool alnum) {
  std::array<bool, 256> t{};
  if (alnum) {
    for (int c = '0'; c <= '9'; ++c) t[static_cast<size_t>(c)] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[static_cast<size_t>(c)] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<size_t>(c)] = true;
  }
  for (char c : extra) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr auto tchar = make_class("!#$%&'*+-.^_`|~", true);
// Target characters other than '%': unreserved, sub-delims, ':', '@', '/', '?'.
constexpr auto target_char = make_class("-._~!$&'()*+,;=:@/?", true);
constexpr auto host_char = make_class("-._~!$&'()*+,;=:[]%", true);

bool is_field_vchar(uint8_t c) { return (c >= 0x21 && c != 0x7f) || c == ' ' || c == '\t'; }
bool is_hex(uint8_t c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

struct method_entry {
  std::string_view name;
  method m;
};
constexpr method_entry methods[] = {
    {"GET", method::get},         {"HEAD", method::head},      {"POST", method::post},
    {"PUT", method::put},         {"DELETE", method::delete_}, {"CONNECT", method::connect},
    {"OPTIONS", method::options}, {"TRACE", method::trace},    {"PATCH", method::patch},
};

constexpr std::string_view version_prefix = "HTTP/";
constexpr size_t version_bytes = 8;  // "HTTP/1.1"

std::string_view view(byte_span b, size_t begin, size_t end) {
  return as_string_view(b.subspan(begin, end - begin));
}

}  // namespace

std::string_view method_name(method m) noexcept {
  for (const auto& e : methods)
    if (e.m == m) return e.name;
  return "?";
}

size_t parser_limits::max_message_bytes() const {
  return 2 * request_parser::max_leading_empty_lines + max_method_bytes + 1 + max_target_bytes + 1 +
         version_bytes + 2 + max_header_bytes + max_body_bytes;
}

std::optional<std::string_view> request::header(std::string_view name) const {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return h.value;
  return std::nullopt;
}

request_parser::request_parser(const parser_limits& limits) : limits_(limits) {
  TRIB_ASSERT(limits.max_method_bytes > 0 && limits.max_target_bytes > 0 &&
              limits.max_header_line_bytes > 0 && limits.max_header_bytes > 0);
  TRIB_ASSERT(limits.max_header_bytes < UINT32_MAX / 2 && limits.max_target_bytes < UINT32_MAX / 2);
}

void request_parser::reset() {
  auto limits = limits_;
  auto headers = std::move(headers_);
  headers.clear();
  *this = request_parser(limits);
  headers_ = std::move(headers);  // keep the capacity
}

parse_status request_parser::status() const {
  switch (state_) {
    case state::complete: return {parse_status::kind::complete, length_, {}};
    case state::error: return {parse_status::kind::error, 0, error_};
    case state::body: return {parse_status::kind::need_more, length_, {}};
    default: return {parse_status::kind::need_more, 0, {}};
  }
}

parse_status request_parser::fail_with(errc e) {
  state_ = state::error;
  error_ = e;
  return status();
}

parse_status request_parser::parse(byte_span buffered) {
  if (state_ == state::complete || state_ == state::error) return status();
  TRIB_ASSERT(buffered.size() >= pos_, "parse() must see every byte it saw before");
  return scan(buffered);
}

parse_status request_parser::scan(byte_span b) {
  const size_t n = b.size();
  while (pos_ < n) {
    const uint8_t c = b[pos_];
    switch (state_) {
      case state::start:
        if (c == '\r') {
          if (++empty_lines_ > max_leading_empty_lines) return fail_with(errc::bad_request_line);
          state_ = state::start_lf;
        } else if (tchar[c]) {
          method_begin_ = pos_;
          state_ = state::method;
        } else if (c == '\n') {
          return fail_with(errc::bad_line_ending);
        } else {
          return fail_with(errc::bad_request_line);
        }
        break;

      case state::start_lf:
        if (c != '\n') return fail_with(errc::bad_line_ending);
        state_ = state::start;
        break;

      case state::method:
        if (tchar[c]) {
          if (pos_ - method_begin_ + 1 > limits_.max_method_bytes) return fail_with(errc::not_implemented);
        } else if (c == ' ') {
          auto name = view(b, method_begin_, pos_);
          bool known = false;
          for (const auto& e : methods) {
            if (e.name == name) {  // methods are case-sensitive
              method_ = e.m;
              known = true;
            }
          }
          if (!known) return fail_with(errc::not_implemented);
          state_ = state::target_start;
        } else {
          return fail_with(errc::bad_request_line);
        }
        break;

      case state::target_start:
        if (c == '/') {
          target_begin_ = pos_;
          state_ = state::target;
        } else if (c == ' ' || c == '\r' || c == '\n') {
          return fail_with(errc::bad_request_line);
        } else {
          return fail_with(errc::bad_target);  // absolute-, authority- or asterisk-form, or junk
        }
        break;

      case state::target:
      case state::target_pct1:
      case state::target_pct2:
        if (c == ' ' && state_ == state::target) {
          target_end_ = pos_;
          version_begin_ = pos_ + 1;
          state_ = state::version;
          break;
        }
        if (pos_ - target_begin_ + 1 > limits_.max_target_bytes) return fail_with(errc::uri_too_long);
        if (state_ != state::target) {
          if (!is_hex(c)) return fail_with(errc::bad_target);
          state_ = state_ == state::target_pct1 ? state::target_pct2 : state::target;
        } else if (c == '%') {
          state_ = state::target_pct1;
        } else if (c == '?' && query_begin_ == 0) {
          query_begin_ = pos_ + 1;
        } else if (!target_char[c]) {
          return fail_with(c == '\r' || c == '\n' ? errc::bad_request_line : errc::bad_target);
        }
        break;

      case state::version: {
        const size_t i = pos_ - version_begin_;
        if (i < version_prefix.size()) {
          if (c != static_cast<uint8_t>(version_prefix[i])) return fail_with(errc::bad_request_line);
        } else if (i == 5 || i == 7) {
          if (c < '0' || c > '9') return fail_with(errc::bad_request_line);
        } else if (i == 6) {
          if (c != '.') return fail_with(errc::bad_request_line);
        } else {  // i == 8: the end of the request line
          if (c != '\r') return fail_with(c == '\n' ? errc::bad_line_ending : errc::bad_request_line);
          const uint8_t major = b[version_begin_ + 5];
          const uint8_t minor = b[version_begin_ + 7];
          if (major != '1' || (minor != '0' && minor != '1')) return fail_with(errc::version_not_supported);
          version_minor_ = minor - '0';
          state_ = state::request_line_lf;
        }
        break;
      }

      case state::request_line_lf:
        if (c != '\n') return fail_with(errc::bad_line_ending);
        headers_begin_ = pos_ + 1;
        state_ = state::header_start;
        break;

      case state::header_start:
      case state::header_name:
      case state::value_ows:
      case state::value:
      case state::header_lf:
      case state::end_lf: {
        if (pos_ - headers_begin_ + 1 > limits_.max_header_bytes)
          return fail_with(errc::header_fields_too_large);
        const bool in_line =
            state_ == state::header_name || state_ == state::value_ows || state_ == state::value;
        if (in_line && c != '\r' && c != '\n' && pos_ - line_begin_ + 1 > limits_.max_header_line_bytes) {
          return fail_with(errc::header_fields_too_large);
        }
        switch (state_) {
          case state::header_start:
            if (c == '\r') {
              state_ = state::end_lf;
            } else if (c == ' ' || c == '\t') {
              return fail_with(errc::obs_fold);
            } else if (tchar[c]) {
              if (headers_.size() + 1 > limits_.max_header_count)
                return fail_with(errc::header_fields_too_large);
              line_begin_ = pos_;
              state_ = state::header_name;
            } else if (c == '\n') {
              return fail_with(errc::bad_line_ending);
            } else {
              return fail_with(errc::bad_header);
            }
            break;
          case state::header_name:
            if (c == ':') {
              name_end_ = pos_;
              state_ = state::value_ows;
            } else if (c == '\r' || c == '\n') {
              return fail_with(c == '\n' ? errc::bad_line_ending : errc::bad_header);  // no colon
            } else if (!tchar[c]) {
              return fail_with(errc::bad_header);  // includes whitespace before the colon
            }
            break;
          case state::value_ows:
            if (c == ' ' || c == '\t') break;
            value_begin_ = value_end_ = pos_;
            state_ = state::value;
            [[fallthrough]];
          case state::value:
            if (c == '\r') {
              state_ = state::header_lf;
            } else if (c == '\n') {
              return fail_with(errc::bad_line_ending);
            } else if (!is_field_vchar(c)) {
              return fail_with(errc::bad_header);
            } else if (c != ' ' && c != '\t') {
              value_end_ = pos_ + 1;
            }
            break;
          case state::header_lf: {
            if (c != '\n') return fail_with(errc::bad_line_ending);
            errc e{};
            if (!finish_header(b, &e)) return fail_with(e);
            state_ = state::header_start;
            break;
          }
          case state::end_lf: {
            if (c != '\n') return fail_with(errc::bad_line_ending);
            errc e{};
            if (!finish_headers(pos_ + 1, &e)) return fail_with(e);
            ++pos_;
            if (state_ == state::complete) return status();
            continue;  // body
          }
          default: TRIB_ASSERT(false);
        }
        break;
      }

      case state::body:
        // Nothing to scan: wait for the bytes.
        if (n >= length_) {
          pos_ = length_;
          state_ = state::complete;
        } else {
          pos_ = n;
        }
        return status();

      case state::complete:
      case state::error: return status();
    }
    ++pos_;
  }
  if (state_ == state::body && n >= length_) {
    pos_ = length_;
    state_ = state::complete;
  }
  return status();
}

bool request_parser::finish_header(byte_span b, errc* e) {
  const auto name = view(b, line_begin_, name_end_);
  const auto value = view(b, value_begin_, value_end_);
  if (iequals(name, "host")) {
    if (has_host_) {
      *e = errc::bad_host;
      return false;
    }
    for (char ch : value) {
      if (!host_char[static_cast<uint8_t>(ch)]) {
        *e = errc::bad_host;
        return false;
      }
    }
    has_host_ = true;
  } else if (iequals(name, "content-length")) {
    if (has_content_length_ || value.empty()) {
      *e = errc::bad_content_length;
      return false;
    }
    uint64_t v = 0;
    bool too_large = false;
    for (char ch : value) {
      if (ch < '0' || ch > '9') {
        *e = errc::bad_content_length;
        return false;
      }
      if (v > limits_.max_body_bytes) {
        too_large = true;  // keep validating the digits; stop growing v
      } else {
        v = v * 10 + static_cast<uint64_t>(ch - '0');
      }
    }
    if (too_large || v > limits_.max_body_bytes) {
      *e = errc::payload_too_large;
      return false;
    }
    has_content_length_ = true;
    content_length_ = v;
  } else if (iequals(name, "transfer-encoding")) {
    *e = errc::transfer_encoding_not_implemented;
    return false;
  } else if (iequals(name, "connection")) {
    // Comma-separated tokens; only "close" and "keep-alive" mean something here.
    size_t i = 0;
    while (i < value.size()) {
      size_t j = value.find(',', i);
      if (j == std::string_view::npos) j = value.size();
      auto token = value.substr(i, j - i);
      while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
      while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
      if (iequals(token, "close")) connection_close_ = true;
      if (iequals(token, "keep-alive")) connection_keep_alive_ = true;
      i = j + 1;
    }
  }
  TRIB_ASSERT(headers_.size() < limits_.max_header_count);
  headers_.push_back({static_cast<uint32_t>(line_begin_), static_cast<uint32_t>(name_end_),
                      static_cast<uint32_t>(value_begin_), static_cast<uint32_t>(value_end_)});
  return true;
}

bool request_parser::finish_headers(size_t end, errc* e) {
  if (version_minor_ == 1 && !has_host_) {
    *e = errc::bad_host;
    return false;
  }
  body_begin_ = end;
  length_ = end + static_cast<size_t>(content_length_);
  state_ = content_length_ > 0 ? state::body : state::complete;
  return true;
}

request request_parser::get(byte_span message) const {
  TRIB_ASSERT(state_ == state::complete, "get() needs a complete request");
  TRIB_ASSERT(message.size() >= length_);
  request r;
  r.method = method_;
  r.target = view(message, target_begin_, target_end_);
  if (query_begin_ != 0) {
    r.path = view(message, target_begin_, query_begin_ - 1);
    r.query = view(message, query_begin_, target_end_);
  } else {
    r.path = r.target;
  }
  r.version_minor = version_minor_;
  r.headers.reserve(headers_.size());
  for (const auto& h : headers_) {
    r.headers.push_back({view(message, h.name_begin, h.name_end), view(message, h.value_begin, h.value_end)});
  }
  r.body = view(message, body_begin_, length_);
  r.keep_alive = version_minor_ == 1 ? !connection_close_ : (connection_keep_alive_ && !connection_close_);
  return r;
}

}  // namespace tributary::http
