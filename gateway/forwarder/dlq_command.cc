#include "gateway/forwarder/dlq_command.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <span>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace tributary::gateway::forwarder {

namespace {

constexpr size_t list_limit_default = 100;
constexpr size_t text_preview_bytes = 64;  // key shown in the table

bool printable(const std::vector<uint8_t>& b) {
  return std::all_of(b.begin(), b.end(), [](uint8_t c) { return c >= 0x20 && c < 0x7f; });
}

std::string show_bytes(const std::optional<std::vector<uint8_t>>& b, size_t max) {
  if (!b) return "(null)";
  std::string s;
  if (printable(*b)) {
    s.assign(b->begin(), b->begin() + static_cast<std::ptrdiff_t>(std::min(max, b->size())));
  } else {
    s = "hex:";
    for (size_t i = 0; i < std::min(max / 2, b->size()); ++i) s += fmt::format("{:02x}", (*b)[i]);
  }
  if (b->size() > max) s += "...";
  return s;
}

std::string iso_time(int64_t unix_ms) {
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(unix_ms % 1000));
}

nlohmann::json to_json(const buffer::dead_letter& d) {
  nlohmann::json j;
  j["seq"] = d.row.seq.value;
  j["topic"] = d.row.r.topic;
  if (d.row.r.key) {
    j["key"] = printable(*d.row.r.key) ? std::string(d.row.r.key->begin(), d.row.r.key->end())
                                       : show_bytes(d.row.r.key, d.row.r.key->size() * 2 + 4);
  } else {
    j["key"] = nullptr;
  }
  j["payload_bytes"] = d.row.r.payload.size();
  j["headers"] = d.row.r.headers.size();
  j["receive_ms"] = d.row.r.receive_ms;
  j["failed_ms"] = d.failed_ms;
  j["reason"] = d.reason;
  return j;
}

int fail_with(std::FILE* err, const std::string& what) {
  std::fprintf(err, "tributary-gateway dlq: %s\n", what.c_str());
  return 1;
}

}  // namespace

tl::expected<dlq_target, std::string> default_dlq_resolver(const dlq_location& where) {
  dlq_target t;
  if (!where.config_file.empty() || !where.sets.empty()) {
    return tl::unexpected(
        std::string("--config and --set need the gateway's configuration (not available here)"));
  }
  if (where.buffer_path) {
    t.path = *where.buffer_path;
  } else {
    t.path = where.data_dir.value_or("/var/lib/tributary/gateway") + "/buffer.db";
  }
  return t;
}

int run_dlq_command(int argc, char** argv, const dlq_resolver& resolve, std::FILE* out, std::FILE* err) {
  CLI::App app{"The dead-letter table of a gateway's buffer: readings the cluster refused for good.",
               "tributary-gateway dlq"};
  app.require_subcommand(1);
  dlq_location where;
  auto add_location = [&where](CLI::App* sub) {
    sub->add_option("--config", where.config_file,
                    "The gateway's JSON config file (finds the buffer as it does)");
    sub->add_option("--data-dir", where.data_dir,
                    "The gateway's data directory (the buffer is <dir>/buffer.db)");
    sub->add_option("--buffer", where.buffer_path, "The buffer file itself");
    sub->add_option("--set", where.sets, "key=value for any gateway config key (repeatable)");
  };
  auto* list = app.add_subcommand("list", "List dead letters in sequence order");
  add_location(list);
  int64_t after = 0;
  size_t limit = list_limit_default;
  bool all_rows = false;
  bool as_json = false;
  list->add_option("--after", after, "Only dead letters with a sequence number above this")
      ->check(CLI::NonNegativeNumber);
  list->add_option("--limit", limit, "At most this many (default 100)")->check(CLI::PositiveNumber);
  list->add_flag("--all", all_rows, "Every dead letter (no limit)");
  list->add_flag("--json", as_json, "One JSON object per line");

  auto* retry = app.add_subcommand("retry", "Move dead letters back into the buffer (new sequence numbers)");
  add_location(retry);
  std::vector<int64_t> retry_seqs;
  bool retry_all = false;
  retry->add_option("SEQ", retry_seqs, "Sequence numbers of dead letters")->check(CLI::PositiveNumber);
  retry->add_flag("--all", retry_all, "Every dead letter, oldest first");

  auto* purge = app.add_subcommand("purge", "Delete dead letters for good");
  add_location(purge);
  std::vector<int64_t> purge_seqs;
  bool purge_all = false;
  purge->add_option("SEQ", purge_seqs, "Sequence numbers of dead letters")->check(CLI::PositiveNumber);
  purge->add_flag("--all", purge_all, "Every dead letter");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (retry->parsed() && retry_all == !retry_seqs.empty()) {
    std::fprintf(err, "tributary-gateway dlq retry: give sequence numbers or --all\n");
    return 2;
  }
  if (purge->parsed() && purge_all == !purge_seqs.empty()) {
    std::fprintf(err, "tributary-gateway dlq purge: give sequence numbers or --all\n");
    return 2;
  }
  auto target = resolve(where);
  if (!target) {
    std::fprintf(err, "tributary-gateway dlq: %s\n", target.error().c_str());
    return 2;
  }
  std::error_code fs_ec;
  if (!std::filesystem::exists(target->path, fs_ec)) return fail_with(err, "no buffer at " + target->path);
  auto opened = buffer::buffer_store::open(target->path, target->store);
  if (!opened)
    return fail_with(err, fmt::format("cannot open {}: {}", target->path, opened.error().message()));
  auto& store = **opened;
  const size_t page = store.options().batch_rows_max;

  if (list->parsed()) {
    size_t shown = 0;
    auto cursor = buffer::gateway_seq(after);
    if (!as_json) {
      std::fprintf(out, "%-10s %-24s %-24s %-20s %8s  %s\n", "SEQ", "FAILED", "TOPIC", "KEY", "BYTES",
                   "REASON");
    }
    // Each page advances the cursor; the table is finite.
    while (all_rows || shown < limit) {
      const size_t want = all_rows ? page : std::min(page, limit - shown);
      auto rows = store.dead_letter_list(cursor, want);
      if (!rows) return fail_with(err, "list: " + rows.error().message());
      for (const auto& d : *rows) {
        if (as_json) {
          std::fprintf(out, "%s\n", to_json(d).dump().c_str());
        } else {
          std::fprintf(out, "%-10lld %-24s %-24s %-20s %8llu  %s\n", static_cast<long long>(d.row.seq.value),
                       iso_time(d.failed_ms).c_str(), d.row.r.topic.c_str(),
                       show_bytes(d.row.r.key, text_preview_bytes / 4).c_str(),
                       static_cast<unsigned long long>(d.row.r.payload.size()), d.reason.c_str());
        }
        cursor = d.row.seq;
      }
      shown += rows->size();
      if (rows->size() < want) break;
    }
    if (!as_json) {
      const auto b = store.backlog();
      std::fprintf(out, "-- %zu shown; %llu dead letters, %llu bytes\n", shown,
                   static_cast<unsigned long long>(b.dead_letter_rows),
                   static_cast<unsigned long long>(b.dead_letter_bytes));
    }
    return 0;
  }

  if (retry->parsed()) {
    if (retry_all) {
      size_t total = 0;
      const uint64_t rounds_max = store.backlog().dead_letter_rows / std::max<size_t>(page, 1) + 2;
      for (uint64_t round = 0; round < rounds_max; ++round) {
        auto n = store.dead_letter_retry_oldest();
        if (!n) return fail_with(err, fmt::format("retry: {} (after {} moved)", n.error().message(), total));
        total += *n;
        if (*n == 0) break;
      }
      std::fprintf(out, "retried %zu dead letters\n", total);
      return 0;
    }
    size_t total = 0;
    for (size_t i = 0; i < retry_seqs.size(); i += page) {
      std::vector<buffer::gateway_seq> seqs;
      for (size_t k = i; k < std::min(retry_seqs.size(), i + page); ++k) seqs.emplace_back(retry_seqs[k]);
      auto moved = store.dead_letter_retry(seqs);
      if (!moved)
        return fail_with(err, fmt::format("retry: {} (after {} moved)", moved.error().message(), total));
      for (size_t k = 0; k < seqs.size(); ++k) {
        std::fprintf(out, "%lld -> %lld\n", static_cast<long long>(seqs[k].value),
                     static_cast<long long>((*moved)[k].value));
      }
      total += moved->size();
    }
    std::fprintf(out, "retried %zu dead letters\n", total);
    return 0;
  }

  // purge
  if (purge_all) {
    auto n = store.dead_letter_purge_all();
    if (!n) return fail_with(err, "purge: " + n.error().message());
    std::fprintf(out, "purged %zu dead letters\n", *n);
    return 0;
  }
  size_t total = 0;
  for (size_t i = 0; i < purge_seqs.size(); i += page) {
    std::vector<buffer::gateway_seq> seqs;
    for (size_t k = i; k < std::min(purge_seqs.size(), i + page); ++k) seqs.emplace_back(purge_seqs[k]);
    auto n = store.dead_letter_purge(seqs);
    if (!n) return fail_with(err, fmt::format("purge: {} (after {} purged)", n.error().message(), total));
    total += *n;
  }
  std::fprintf(out, "purged %zu of %zu dead letters\n", total, purge_seqs.size());
  return total == purge_seqs.size() ? 0 : 1;
}

}  // namespace tributary::gateway::forwarder
