#pragma once
// HTTP errors and status codes. Each malformed request maps to one precise status (status_of):
//   400 Bad Request: bad_request_line, bad_target, bad_header, obs_fold, bad_line_ending, bad_host,
//                    bad_content_length
//   405 Method Not Allowed: method_not_allowed (from the server: it depends on the resource)
//   413 Content Too Large: payload_too_large (Content-Length over max_body_bytes)
//   414 URI Too Long: uri_too_long (target over max_target_bytes)
//   431 Request Header Fields Too Large: header_fields_too_large (a line, the count or the section)
//   501 Not Implemented: not_implemented (unknown method), transfer_encoding_not_implemented (any
//                        Transfer-Encoding, including chunked: request bodies need Content-Length)
//   505 HTTP Version Not Supported: version_not_supported (HTTP/x.y other than 1.0 and 1.1)
#include <string_view>
#include <system_error>

#include "common/result.h"

namespace tributary::http {

enum class errc {
  bad_request_line = 1,               // 400: request line syntax
  bad_target,                         // 400: not origin-form, a bad character or %-escape
  bad_header,                         // 400: bad field name/value, no colon, space before colon
  obs_fold,                           // 400: a header line starting with whitespace
  bad_line_ending,                    // 400: CR without LF, or LF without CR
  bad_host,                           // 400: HTTP/1.1 without Host, several Host, or a bad value
  bad_content_length,                 // 400: not 1*DIGIT, or given more than once
  method_not_allowed,                 // 405
  payload_too_large,                  // 413
  uri_too_long,                       // 414
  header_fields_too_large,            // 431
  not_implemented,                    // 501: unknown method
  transfer_encoding_not_implemented,  // 501: Transfer-Encoding present
  version_not_supported,              // 505
};
inline std::error_code make_error_code(errc e) noexcept { return to_error_code(e); }

// The response status for an error.
int status_of(errc e) noexcept;
// "OK", "Not Found", ...; "Unknown" for a status not in the table.
std::string_view reason_phrase(int status) noexcept;

}  // namespace tributary::http

template <>
struct tributary::errc_info<tributary::http::errc> {
  static constexpr const char* name = "http";
  static const char* message(tributary::http::errc e) noexcept;
};
template <>
struct std::is_error_code_enum<tributary::http::errc> : std::true_type {};
