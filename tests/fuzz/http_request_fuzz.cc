// Fuzzes the strict HTTP/1.1 request parser (common/http/request_parser). The input is parsed as a
// stream of pipelined requests twice: all at once, and delivered in two pieces split at a point
// derived from the data. Both must agree exactly (same requests, same fields, same final error or
// need-more), and every view must lie inside the message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/http/request_parser.h"

using namespace tributary;

namespace {

struct outcome {
  int kind = 0;
  size_t length = 0;
  int error = 0;
  std::string summary;
  bool operator==(const outcome&) const = default;
};

void check_inside(std::string_view view, byte_span message) {
  if (view.empty()) return;
  auto* b = reinterpret_cast<const char*>(message.data());
  if (view.data() < b || view.data() + view.size() > b + message.size()) std::abort();
}

std::string summarize(const http::request& r, byte_span message) {
  for (auto v : {r.target, r.path, r.query, r.body}) check_inside(v, message);
  std::string s(http::method_name(r.method));
  s += ' ';
  s += r.target;
  s += r.keep_alive ? " ka " : " close ";
  s += std::to_string(r.version_minor);
  for (const auto& h : r.headers) {
    check_inside(h.name, message);
    check_inside(h.value, message);
    if (h.name.empty()) std::abort();
    s += '|';
    s += h.name;
    s += '=';
    s += h.value;
  }
  s += "|body=";
  s += r.body;
  return s;
}

// Parses requests one after another; the bytes become available `first` at a time, then all.
std::vector<outcome> parse_stream(const uint8_t* data, size_t size, size_t first,
                                  const http::parser_limits& limits) {
  std::vector<outcome> out;
  http::request_parser p(limits);
  size_t start = 0;
  size_t available = first;
  for (int guard = 0; guard < 100000; ++guard) {
    if (available < start) available = start;
    byte_span visible(data + start, available - start);
    auto st = p.parse(visible);
    if (st.k == http::parse_status::kind::need_more && available < size) {
      available = size;
      continue;
    }
    if (st.k != http::parse_status::kind::complete) {
      out.push_back({static_cast<int>(st.k),
                     st.k == http::parse_status::kind::need_more ? st.length : 0,
                     static_cast<int>(st.error),
                     {}});
      return out;
    }
    if (st.length == 0 || st.length > visible.size()) std::abort();
    byte_span message = visible.first(st.length);
    out.push_back({static_cast<int>(st.k), st.length, 0, summarize(p.get(message), message)});
    start += st.length;
    p.reset();
    if (start == size) return out;
  }
  std::abort();  // every complete request consumes at least one byte: cannot loop this long
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  http::parser_limits limits;  // small limits so the fuzzer reaches every limit branch
  limits.max_method_bytes = 8;
  limits.max_target_bytes = 64;
  limits.max_header_line_bytes = 96;
  limits.max_header_count = 8;
  limits.max_header_bytes = 512;
  limits.max_body_bytes = 256;
  size_t split = 0;
  if (size > 0) split = (static_cast<size_t>(data[0]) * 257 + data[size - 1]) % (size + 1);
  auto whole = parse_stream(data, size, size, limits);
  auto pieces = parse_stream(data, size, split, limits);
  if (!(whole == pieces)) std::abort();
  return 0;
}
