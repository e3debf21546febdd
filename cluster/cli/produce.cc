#include "cluster/cli/produce.h"

#include <sys/types.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cluster/cli/kafka.h"
#include "common/assert.h"

namespace tributary::cluster::cli {
namespace {

// What the delivery reports say; filled by on_delivery_report inside rd_kafka_poll/flush on this
// thread. Nothing in it allocates after set-up.
struct delivery_tally {
  struct error_slot {
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    int64_t count = 0;
    std::array<char, 256> text{};
  };
  int64_t delivered = 0;
  int64_t failed = 0;
  std::array<error_slot, k_error_kinds_max> errors{};
  size_t error_kinds = 0;
  std::vector<produce_summary::partition_range> partitions;  // index = partition id; sized up front

  void note_error(rd_kafka_resp_err_t err, const char* text) noexcept {
    for (size_t i = 0; i < error_kinds; ++i) {
      if (errors[i].err == err) {
        ++errors[i].count;
        return;
      }
    }
    // Past k_error_kinds_max distinct errors, the last slot counts the rest under its own name.
    error_slot& slot = error_kinds < errors.size() ? errors[error_kinds++] : errors.back();
    if (slot.count == 0) {
      slot.err = err;
      std::snprintf(slot.text.data(), slot.text.size(), "%s", text == nullptr ? "" : text);
    }
    ++slot.count;
  }
};

void on_delivery_report(void* context, const rd_kafka_message_t& m) noexcept {
  auto& tally = *static_cast<delivery_tally*>(context);
  if (m.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++tally.failed;
    tally.note_error(m.err, rd_kafka_message_errstr(&m));
    return;
  }
  ++tally.delivered;
  if (m.partition < 0 || static_cast<size_t>(m.partition) >= tally.partitions.size()) return;
  produce_summary::partition_range& p = tally.partitions[static_cast<size_t>(m.partition)];
  ++p.records;
  if (p.first_offset < 0 || m.offset < p.first_offset) p.first_offset = m.offset;
  if (m.offset > p.last_offset) p.last_offset = m.offset;
}

struct headers_deleter {
  void operator()(rd_kafka_headers_t* h) const noexcept { rd_kafka_headers_destroy(h); }
};
using headers_ptr = std::unique_ptr<rd_kafka_headers_t, headers_deleter>;

// Submits records and keeps delivery reports flowing.
class submitter {
 public:
  submitter(client& c, const produce_request& request, delivery_tally& tally, int timeout_ms)
      : client_(c), request_(request), tally_(tally), timeout_ms_(timeout_ms) {
    if (!request.headers.empty()) {
      headers_.reset(rd_kafka_headers_new(request.headers.size()));
      for (const property& h : request.headers)
        rd_kafka_header_add(headers_.get(), h.key.data(), static_cast<ssize_t>(h.key.size()), h.value.data(),
                            static_cast<ssize_t>(h.value.size()));
    }
  }

  int64_t records() const { return records_; }
  int64_t bytes() const { return bytes_; }

  // Submits one record, waiting while librdkafka's queue is full (at most the timeout). Returns false
  // when the command should stop submitting (a signal).
  bool submit(std::optional<std::string_view> key, std::string_view value) {
    ++records_;
    bytes_ += static_cast<int64_t>(value.size() + (key ? key->size() : 0));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_);
    const void* key_data = key ? key->data() : nullptr;  // a null key, not an empty one
    const size_t key_size = key ? key->size() : 0;
    while (true) {
      rd_kafka_headers_t* headers = headers_ ? rd_kafka_headers_copy(headers_.get()) : nullptr;
      const rd_kafka_resp_err_t err = rd_kafka_producev(
          client_.handle(), RD_KAFKA_V_TOPIC(request_.topic.c_str()),
          RD_KAFKA_V_PARTITION(request_.partition), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_KEY(key_data, key_size), RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
          RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;  // the headers are librdkafka's now
      if (headers != nullptr) rd_kafka_headers_destroy(headers);
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !stop_requested() &&
          std::chrono::steady_clock::now() < deadline) {
        rd_kafka_poll(client_.handle(), k_queue_full_wait_ms);
        continue;
      }
      ++tally_.failed;
      tally_.note_error(err, rd_kafka_err2str(err));
      break;
    }
    rd_kafka_poll(client_.handle(), 0);
    return !stop_requested();
  }

 private:
  client& client_;
  const produce_request& request_;
  delivery_tally& tally_;
  int timeout_ms_;
  headers_ptr headers_;
  int64_t records_ = 0;
  int64_t bytes_ = 0;
};

// Reads records from `in`, one per line. A failure is an input problem (the records before it were
// submitted).
outcome<void> submit_lines(std::FILE* in, const std::string& source, const produce_request& request,
                           submitter& out) {
  char* line = nullptr;
  size_t capacity = 0;
  int64_t line_no = 0;
  outcome<void> status;
  while (true) {
    errno = 0;
    const ssize_t n = ::getline(&line, &capacity, in);
    if (n < 0) {
      if (std::ferror(in) && errno != EINTR)
        status = fail_with(errc::bad_input, fmt::format("produce {}: reading {}: {}", request.topic, source,
                                                        std::strerror(errno)));
      break;
    }
    ++line_no;
    std::string_view text(line, static_cast<size_t>(n));
    if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    if (text.size() > k_record_bytes_max) {
      status = fail_with(errc::bad_input, fmt::format("produce {}: {} line {}: longer than {} bytes",
                                                      request.topic, source, line_no, k_record_bytes_max));
      break;
    }
    const line_record r = split_line(text, request.key_separator, request.key);
    if (!out.submit(r.key, r.value)) break;
  }
  std::free(line);
  return status;
}

int64_t message_timeout_ms(client& c) {
  char buf[32];
  size_t size = sizeof buf;
  if (rd_kafka_conf_get(rd_kafka_conf(c.handle()), "message.timeout.ms", buf, &size) != RD_KAFKA_CONF_OK)
    return 0;
  return std::strtoll(buf, nullptr, 10);
}

// Waits for every delivery report: at most message.timeout.ms plus a grace (librdkafka fails each
// record by then), or until a signal, after which what is still queued is purged.
void await_reports(client& c) {
  const int64_t timeout_ms = message_timeout_ms(c);
  const auto start = std::chrono::steady_clock::now();
  const auto limit = std::chrono::milliseconds(timeout_ms + k_flush_grace_ms);
  while (rd_kafka_outq_len(c.handle()) > 0) {
    if (stop_requested()) {
      rd_kafka_purge(c.handle(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      rd_kafka_flush(c.handle(), k_flush_grace_ms);
      return;
    }
    if (timeout_ms > 0 && std::chrono::steady_clock::now() - start > limit) return;
    rd_kafka_flush(c.handle(), k_queue_full_wait_ms);
  }
  rd_kafka_poll(c.handle(), 0);
}

outcome<void> run_produce(const global_options& global, const produce_request& request) {
  const std::string context = fmt::format("produce {}", request.topic);
  if (const std::string problem = check_produce_request(request); !problem.empty())
    return fail_with(errc::bad_arguments, fmt::format("{}: {}", context, problem));

  std::FILE* in = stdin;
  std::string source = "stdin";
  if (request.file) {
    in = std::fopen(request.file->c_str(), "r");
    if (in == nullptr)
      return fail_with(errc::bad_input,
                       fmt::format("{}: --file {}: {}", context, *request.file, std::strerror(errno)));
    source = *request.file;
  }
  struct file_guard {
    std::FILE* f;
    ~file_guard() {
      if (f != stdin) std::fclose(f);
    }
  } in_guard{in};

  delivery_tally tally;
  const std::vector<property> props = producer_properties(request);
  client c = TRIB_TRY(client::create(global, client_kind::producer, props, on_delivery_report, &tally));

  // The topic must exist (producing never creates one) and so must --partition.
  metadata_ptr md = TRIB_TRY(fetch_metadata(c, &request.topic, global.timeout_ms, context));
  const rd_kafka_metadata_topic_t* t = find_topic(*md, request.topic);
  TRIB_ASSERT(t != nullptr, "fetch_metadata returns the topic or fails");
  if (request.partition >= t->partition_cnt)
    return fail_with(errc::partition_not_found,
                     fmt::format("{}: partition {} does not exist (the topic has {})", context,
                                 request.partition, t->partition_cnt));
  tally.partitions.resize(static_cast<size_t>(t->partition_cnt));
  for (size_t i = 0; i < tally.partitions.size(); ++i)
    tally.partitions[i].partition = static_cast<int32_t>(i);

  submitter out(c, request, tally, global.timeout_ms);
  outcome<void> input_status;
  if (request.count) {
    for (int64_t i = 0; i < *request.count; ++i) {
      const std::string value = generated_payload(i, request.size);
      if (!out.submit(request.key, value)) break;
    }
  } else {
    input_status = submit_lines(in, source, request, out);
  }
  await_reports(c);

  produce_summary summary;
  summary.topic = request.topic;
  summary.records = out.records();
  summary.bytes = out.bytes();
  summary.delivered = tally.delivered;
  summary.failed = tally.failed;
  summary.interrupted = stop_requested();
  for (size_t i = 0; i < tally.error_kinds; ++i) {
    const auto& e = tally.errors[i];
    summary.errors.push_back({rd_kafka_err2name(e.err), e.text.data(), e.count});
  }
  const int64_t unreported = summary.records - summary.delivered - summary.failed;
  TRIB_ASSERT(unreported >= 0, "more reports than records");
  if (unreported > 0) {
    summary.failed += unreported;
    summary.errors.push_back({"NO_REPORT", "no delivery report before the CLI gave up", unreported});
  }
  for (const auto& p : tally.partitions) {
    if (p.records > 0) summary.partitions.push_back(p);
  }
  write_stdout(render_produce_summary(summary, global.json));

  if (!input_status) return input_status;
  if (summary.interrupted) return fail_with(errc::interrupted, fmt::format("{}: interrupted", context));
  if (summary.failed > 0) {
    const auto& first = summary.errors.front();
    return fail_with(errc::delivery_failed,
                     fmt::format("{}: {} of {} records not delivered (first error: {}: {})", context,
                                 summary.failed, summary.records, first.name, first.message));
  }
  return {};
}

}  // namespace

std::string check_produce_request(const produce_request& r) {
  if (r.idempotent && r.acks && *r.acks != "all" && *r.acks != "-1") return "--idempotent needs --acks all";
  if (r.count && r.file) return "--count generates records: it excludes --file";
  if (r.count && r.key_separator) return "--count generates records: it excludes --key-separator";
  if (!r.count && r.size != k_generated_size_default) return "--size needs --count";
  if (r.count && (*r.count < 1 || *r.count > k_generated_records_max))
    return fmt::format("--count must be 1..{}", k_generated_records_max);
  if (r.size > k_record_bytes_max) return fmt::format("--size must be at most {}", k_record_bytes_max);
  if (r.key_separator && r.key_separator->empty()) return "--key-separator must not be empty";
  if (r.headers.size() > k_headers_max) return fmt::format("at most {} headers", k_headers_max);
  if (r.partition < -1 || r.partition >= k_partitions_max) return "--partition out of range";
  return {};
}

std::vector<property> producer_properties(const produce_request& r) {
  std::vector<property> props;
  if (r.acks) props.push_back({"acks", *r.acks == "all" ? "-1" : *r.acks});
  if (r.idempotent) props.push_back({"enable.idempotence", "true"});
  return props;
}

line_record split_line(std::string_view line, const std::optional<std::string>& separator,
                       const std::optional<std::string>& fallback_key) {
  line_record r;
  if (fallback_key) r.key = *fallback_key;
  r.value = line;
  if (!separator || separator->empty()) return r;
  const size_t at = line.find(*separator);
  if (at == std::string_view::npos) return r;
  r.key = line.substr(0, at);
  r.value = line.substr(at + separator->size());
  return r;
}

std::string generated_payload(int64_t index, size_t size) {
  static constexpr std::string_view k_filler = "abcdefghijklmnopqrstuvwxyz";
  std::string out = fmt::format("{} ", index);
  if (out.size() >= size) {
    out.resize(size);
    return out;
  }
  out.reserve(size);
  while (out.size() < size) out.append(k_filler.substr(0, std::min(k_filler.size(), size - out.size())));
  TRIB_ASSERT(out.size() == size);
  return out;
}

std::string render_produce_summary(const produce_summary& s, bool json) {
  if (json) {
    nlohmann::json errors = nlohmann::json::array();
    for (const auto& e : s.errors)
      errors.push_back({{"error", e.name}, {"message", e.message}, {"count", e.count}});
    nlohmann::json partitions = nlohmann::json::array();
    for (const auto& p : s.partitions) {
      partitions.push_back({{"partition", p.partition},
                            {"records", p.records},
                            {"first_offset", p.first_offset},
                            {"last_offset", p.last_offset}});
    }
    nlohmann::json j = {{"topic", s.topic},
                        {"records", s.records},
                        {"bytes", s.bytes},
                        {"delivered", s.delivered},
                        {"failed", s.failed},
                        {"errors", std::move(errors)},
                        {"partitions", std::move(partitions)},
                        {"interrupted", s.interrupted}};
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  std::string out =
      fmt::format("produced {} records ({} bytes) to {}: {} delivered, {} failed{}\n", s.records, s.bytes,
                  s.topic, s.delivered, s.failed, s.interrupted ? " (interrupted)" : "");
  for (const auto& p : s.partitions) {
    out += fmt::format("  partition {}: {} records, offsets {}..{}\n", p.partition, p.records, p.first_offset,
                       p.last_offset);
  }
  for (const auto& e : s.errors)
    out += fmt::format("  error {}: {} records: {}\n", e.name, e.count, e.message);
  return out;
}

void bind_produce_command(CLI::App& root, std::shared_ptr<produce_request> parsed, command_fn& chosen) {
  CLI::App* cmd = root.add_subcommand(
      "produce",
      "Produce records: one per line from stdin or --file, or --count generated ones; waits for every "
      "delivery report and prints a summary (exit 1 if any record was not delivered)");
  cmd->add_option("topic", parsed->topic, "Topic")->required();
  cmd->add_option_function<std::string>(
         "-k,--key", [parsed](const std::string& k) { parsed->key = k; },
         "Key of every record (with -K: of lines without the separator)")
      ->type_name("KEY");
  cmd->add_option("-p,--partition", parsed->partition, "Partition (default: librdkafka's partitioner)")
      ->type_name("P")
      ->check(CLI::Range(0, k_partitions_max - 1));
  cmd->add_option_function<std::vector<std::string>>(
         "-H,--header",
         [parsed](const std::vector<std::string>& texts) {
           for (const std::string& text : texts) {
             auto p = parse_property(text);
             TRIB_ASSERT(p.has_value(), "checked by check_property");
             parsed->headers.push_back(std::move(*p));
           }
         },
         "Header key=value on every record (repeatable)")
      ->type_name("KEY=VALUE")
      ->check(check_property);
  cmd->add_option_function<std::string>(
         "--acks", [parsed](const std::string& a) { parsed->acks = a; },
         "Acknowledgements: all (default), 1 or 0")
      ->check(CLI::IsMember({"all", "-1", "1", "0"}));
  cmd->add_flag("--idempotent", parsed->idempotent, "Idempotent producer (needs acks all)");
  CLI::Option* file = cmd->add_option_function<std::string>(
                             "-f,--file", [parsed](const std::string& f) { parsed->file = f; },
                             "Read records from this file instead of stdin")
                          ->type_name("FILE");
  CLI::Option* sep =
      cmd->add_option_function<std::string>(
             "-K,--key-separator", [parsed](const std::string& s) { parsed->key_separator = s; },
             "Each line is KEY<SEP>VALUE (split at the first SEP)")
          ->type_name("SEP");
  CLI::Option* count = cmd->add_option_function<int64_t>(
                              "-n,--count", [parsed](int64_t n) { parsed->count = n; },
                              "Produce N generated records instead of reading input")
                           ->type_name("N")
                           ->check(CLI::Range(int64_t{1}, k_generated_records_max))
                           ->excludes(file)
                           ->excludes(sep);
  cmd->add_option("-s,--size", parsed->size, "Bytes of each generated value")
      ->type_name("B")
      ->check(CLI::Range(size_t{0}, k_record_bytes_max))
      ->needs(count)
      ->capture_default_str();
  cmd->callback([parsed, &chosen] {
    if (const std::string problem = check_produce_request(*parsed); !problem.empty())
      throw CLI::ValidationError("produce", problem);
    chosen = [parsed](const global_options& g) { return run_produce(g, *parsed); };
  });
}

void add_produce_command(CLI::App& root, command_fn& chosen) {
  bind_produce_command(root, std::make_shared<produce_request>(), chosen);
}

}  // namespace tributary::cluster::cli
