#include "cluster/cli/consume.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cluster/cli/kafka.h"
#include "common/assert.h"

namespace tributary::cluster::cli {
namespace {

int64_t rd_kafka_start(const start_offset& o) {
  switch (o.where) {
    case start_offset::kind::beginning: return RD_KAFKA_OFFSET_BEGINNING;
    case start_offset::kind::end: return RD_KAFKA_OFFSET_END;
    case start_offset::kind::absolute: return o.value;
    case start_offset::kind::from_end: return RD_KAFKA_OFFSET_TAIL(o.value);
  }
  TRIB_ASSERT(false, "unknown start_offset kind");
  return RD_KAFKA_OFFSET_BEGINNING;
}

// Errors after which waiting longer cannot help.
bool stops_consumer(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
    case RD_KAFKA_RESP_ERR__FATAL: return true;
    default: return false;
  }
}

std::string_view timestamp_type_name(rd_kafka_timestamp_type_t t) {
  switch (t) {
    case RD_KAFKA_TIMESTAMP_CREATE_TIME: return "create_time";
    case RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME: return "log_append_time";
    case RD_KAFKA_TIMESTAMP_NOT_AVAILABLE: return "";
  }
  return "";
}

record_view view_of(const rd_kafka_message_t& m, std::string_view topic) {
  record_view r;
  r.topic = topic;
  r.partition = m.partition;
  r.offset = m.offset;
  rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  const int64_t ts = rd_kafka_message_timestamp(&m, &type);
  if (type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE) r.timestamp_ms = ts;
  r.timestamp_type = timestamp_type_name(type);
  if (m.key != nullptr) r.key = std::string_view(static_cast<const char*>(m.key), m.key_len);
  if (m.payload != nullptr) r.value = std::string_view(static_cast<const char*>(m.payload), m.len);
  rd_kafka_headers_t* headers = nullptr;  // owned by the message
  if (rd_kafka_message_headers(&m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR && headers != nullptr) {
    const size_t n = rd_kafka_header_cnt(headers);
    r.headers.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const char* name = nullptr;
      const void* value = nullptr;
      size_t size = 0;
      if (rd_kafka_header_get_all(headers, i, &name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR) break;
      header_view h;
      h.key = name == nullptr ? "" : name;
      if (value != nullptr) h.value = std::string_view(static_cast<const char*>(value), size);
      r.headers.push_back(h);
    }
  }
  return r;
}

struct partition_list_deleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const noexcept {
    rd_kafka_topic_partition_list_destroy(l);
  }
};

outcome<void> run_consume(const global_options& global, const consume_request& request) {
  const std::string context = fmt::format("consume {}", request.topic);
  if (global.json && request.format != k_format_default)
    return fail_with(errc::bad_arguments, fmt::format("{}: --format and --json exclude each other", context));

  // 0 = no idle stop. (A std::optional<int> here trips gcc 12's -Wmaybe-uninitialized at -O2.)
  const int idle_timeout_ms = global.timeout_ms_given ? global.timeout_ms : 0;
  const std::vector<property> props = {{"enable.partition.eof", request.stop_at_end ? "true" : "false"}};
  client c = TRIB_TRY(client::create(global, client_kind::consumer, props));
  metadata_ptr md = TRIB_TRY(fetch_metadata(c, &request.topic, global.timeout_ms, context));
  const rd_kafka_metadata_topic_t* t = find_topic(*md, request.topic);
  TRIB_ASSERT(t != nullptr, "fetch_metadata returns the topic or fails");
  if (request.partition >= t->partition_cnt)
    return fail_with(errc::partition_not_found,
                     fmt::format("{}: partition {} does not exist (the topic has {})", context,
                                 request.partition, t->partition_cnt));

  std::vector<int32_t> partitions;
  if (request.partition >= 0) {
    partitions.push_back(request.partition);
  } else {
    for (int i = 0; i < t->partition_cnt; ++i) partitions.push_back(t->partitions[i].id);
  }
  std::unique_ptr<rd_kafka_topic_partition_list_t, partition_list_deleter> assignment(
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const int32_t p : partitions)
    rd_kafka_topic_partition_list_add(assignment.get(), request.topic.c_str(), p)->offset =
        rd_kafka_start(request.offset);
  c.redirect_to_consumer_queue();
  if (const rd_kafka_resp_err_t err = rd_kafka_assign(c.handle(), assignment.get());
      err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return tl::unexpected(kafka_failure(err, fmt::format("{}: assign", context)));

  std::vector<bool> at_end(static_cast<size_t>(t->partition_cnt), false);
  size_t partitions_at_end = 0;
  int64_t records = 0;
  int64_t bytes = 0;
  std::string out;
  out.reserve(k_output_buffer_bytes);
  outcome<void> status;
  auto last_activity = std::chrono::steady_clock::now();
  bool output_closed = false;
  std::string last_error;  // the latest transient consumer error, for the idle-stop message
  while (true) {
    if (stop_requested()) {
      status =
          fail_with(errc::interrupted, fmt::format("{}: interrupted after {} records", context, records));
      break;
    }
    if (request.count && records >= *request.count) break;
    if (request.stop_at_end && partitions_at_end == partitions.size()) break;
    if (idle_timeout_ms > 0 &&
        std::chrono::steady_clock::now() - last_activity >= std::chrono::milliseconds(idle_timeout_ms)) {
      if (request.count)
        status =
            fail_with(errc::incomplete,
                      fmt::format("{}: {} of {} records, then none for {} ms{}", context, records,
                                  *request.count, idle_timeout_ms,
                                  last_error.empty() ? "" : fmt::format(" (last error: {})", last_error)));
      break;
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(c.handle(), k_consume_poll_ms);
    if (m == nullptr) {
      if (!write_stdout(out) || std::fflush(stdout) != 0) output_closed = true;
      out.clear();
      if (output_closed) break;
      continue;
    }
    std::unique_ptr<rd_kafka_message_t, decltype(&rd_kafka_message_destroy)> guard(m,
                                                                                   rd_kafka_message_destroy);
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      const auto p = static_cast<size_t>(m->partition);
      if (p < at_end.size() && !at_end[p]) {
        at_end[p] = true;
        ++partitions_at_end;
      }
      continue;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (stops_consumer(m->err)) {
        status = tl::unexpected(kafka_failure(m->err, context, rd_kafka_message_errstr(m)));
        break;
      }
      last_error = kafka_error_text(m->err, rd_kafka_message_errstr(m));
      if (global.verbose) print_error(fmt::format("{}: warning: {}", context, last_error));
      continue;
    }
    const auto p = static_cast<size_t>(m->partition);
    if (p < at_end.size() && at_end[p]) {
      at_end[p] = false;
      --partitions_at_end;
    }
    const record_view r = view_of(*m, request.topic);
    if (global.json) {
      out += record_json(r);
      out += '\n';
    } else {
      render_record(request.compiled, r, out);
    }
    ++records;
    bytes += static_cast<int64_t>(m->len + m->key_len);
    last_activity = std::chrono::steady_clock::now();
    if (out.size() >= k_output_buffer_bytes) {
      if (!write_stdout(out)) output_closed = true;
      out.clear();
      if (output_closed) break;
    }
  }
  if (!output_closed) {
    write_stdout(out);
    std::fflush(stdout);
  }
  rd_kafka_consumer_close(c.handle());
  if (global.verbose)
    print_error(fmt::format("{}: {} records ({} bytes) from {} partitions", context, records, bytes,
                            partitions.size()));
  if (output_closed && status)
    return fail_with(errc::bad_input, fmt::format("{}: cannot write to stdout", context));
  return status;
}

}  // namespace

result<start_offset> parse_offset(std::string_view text) {
  if (text == "beginning") return start_offset{start_offset::kind::beginning, 0};
  if (text == "end") return start_offset{start_offset::kind::end, 0};
  const bool from_end = !text.empty() && text.front() == '-';
  const std::string_view digits = from_end ? text.substr(1) : text;
  if (digits.empty()) return fail(errc::bad_offset);
  int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || v < 0) return fail(errc::bad_offset);
  if (from_end) {
    // RD_KAFKA_OFFSET_TAIL(n) encodes n below -2000; keep n far from overflow.
    if (v == 0 || v > INT64_MAX / 2) return fail(errc::bad_offset);
    return start_offset{start_offset::kind::from_end, v};
  }
  return start_offset{start_offset::kind::absolute, v};
}

void bind_consume_command(CLI::App& root, std::shared_ptr<consume_request> parsed, command_fn& chosen) {
  CLI::App* cmd = root.add_subcommand(
      "consume",
      "Consume records (assign, no consumer group) and print one per line; runs until --count records, "
      "--timeout-ms T without a record (the global option), --eof or Ctrl-C");
  cmd->add_option("topic", parsed->topic, "Topic")->required();
  cmd->add_option("-p,--partition", parsed->partition, "Only this partition (default: all)")
      ->type_name("P")
      ->check(CLI::Range(0, k_partitions_max - 1));
  cmd->add_option_function<std::string>(
         "-o,--offset",
         [parsed](const std::string& text) {
           auto o = parse_offset(text);
           TRIB_ASSERT(o.has_value(), "checked by the validator");
           parsed->offset = *o;
         },
         "Start at: beginning (default), end, an offset N, or -N (N records before the end)")
      ->type_name("OFFSET")
      ->check([](const std::string& text) {
        auto o = parse_offset(text);
        return o ? std::string() : o.error().message();
      });
  cmd->add_option_function<int64_t>(
         "-n,--count", [parsed](int64_t n) { parsed->count = n; },
         "Stop after N records (exit 4 if --timeout-ms ends the wait first)")
      ->type_name("N")
      ->check(CLI::Range(int64_t{1}, k_consume_count_max));
  cmd->add_flag("-e,--eof", parsed->stop_at_end, "Stop at the end of every partition");
  cmd->add_option(
         "-f,--format", parsed->format,
         "Output of each record: %t topic, %p partition, %o offset, %T timestamp, %k key, %v value, "
         "%K/%V key/value size, %h headers, %%; escapes \\n \\t \\r \\\\; a newline follows each record")
      ->type_name("FORMAT")
      ->check([](const std::string& text) {
        auto f = parse_format(text);
        return f ? std::string() : f.error().message();
      })
      ->capture_default_str();
  cmd->callback([parsed, &chosen] {
    auto compiled = parse_format(parsed->format);
    TRIB_ASSERT(compiled.has_value(), "checked by the validator");
    parsed->compiled = std::move(*compiled);
    chosen = [parsed](const global_options& g) { return run_consume(g, *parsed); };
  });
}

void add_consume_command(CLI::App& root, command_fn& chosen) {
  bind_consume_command(root, std::make_shared<consume_request>(), chosen);
}

}  // namespace tributary::cluster::cli
