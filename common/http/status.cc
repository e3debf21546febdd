#include "common/http/status.h"

namespace tributary {

const char* errc_info<http::errc>::message(http::errc e) noexcept {
  using http::errc;
  switch (e) {
    case errc::bad_request_line: return "malformed request line";
    case errc::bad_target: return "request target is not a valid origin-form path";
    case errc::bad_header: return "malformed header field";
    case errc::obs_fold: return "obsolete line folding is not accepted";
    case errc::bad_line_ending: return "line not ended by CRLF";
    case errc::bad_host: return "missing, repeated or invalid Host header";
    case errc::bad_content_length: return "invalid or repeated Content-Length";
    case errc::method_not_allowed: return "method not allowed for this resource";
    case errc::payload_too_large: return "request body larger than the limit";
    case errc::uri_too_long: return "request target longer than the limit";
    case errc::header_fields_too_large: return "header fields larger than the limits";
    case errc::not_implemented: return "unknown method";
    case errc::transfer_encoding_not_implemented: return "Transfer-Encoding is not supported";
    case errc::version_not_supported: return "HTTP version not supported";
  }
  return "unknown http error";
}

namespace http {

int status_of(errc e) noexcept {
  switch (e) {
    case errc::bad_request_line:
    case errc::bad_target:
    case errc::bad_header:
    case errc::obs_fold:
    case errc::bad_line_ending:
    case errc::bad_host:
    case errc::bad_content_length: return 400;
    case errc::method_not_allowed: return 405;
    case errc::payload_too_large: return 413;
    case errc::uri_too_long: return 414;
    case errc::header_fields_too_large: return 431;
    case errc::not_implemented:
    case errc::transfer_encoding_not_implemented: return 501;
    case errc::version_not_supported: return 505;
  }
  return 400;
}

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

}  // namespace http
}  // namespace tributary
