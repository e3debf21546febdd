#pragma once
// `tributary-gateway dlq list|retry|purge`: the dead-letter table of a gateway's buffer, from the
// command line. It opens the buffer file with its own SQLite connection, so it works while the
// gateway runs (the buffer supports a second connection; a retried row gets a new sequence number
// and the running forwarder picks it up) and while it is stopped.
//
//   tributary-gateway dlq list  [--config F | --data-dir D | --buffer FILE] [--after SEQ] [--limit N]
//   [--json] tributary-gateway dlq retry [...] (SEQ... | --all)    back into the buffer, under new seqs,
//   oldest first tributary-gateway dlq purge [...] (SEQ... | --all)    delete for good
//
// Exit status: 0 done; 1 the buffer cannot be opened or an operation failed (a SEQ that is not a
// dead letter: nothing changes); 2 bad command line or configuration.
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "gateway/buffer/buffer_store.h"

namespace tributary::gateway::forwarder {

// Where the user said the buffer is.
struct dlq_location {
  std::string config_file;                 // --config
  std::optional<std::string> data_dir;     // --data-dir
  std::optional<std::string> buffer_path;  // --buffer
  std::vector<std::string> sets;           // --set key=value
};

// The buffer to open, as the gateway would (its path and options, e.g. the quota a retry checks).
struct dlq_target {
  std::string path;
  buffer::store_options store;
};

// Supplied by the gateway's main (it owns the configuration); the error text is printed as is.
using dlq_resolver = std::function<tl::expected<dlq_target, std::string>(const dlq_location&)>;

// Without a configuration: --buffer FILE, or <--data-dir>/buffer.db (default
// /var/lib/tributary/gateway/buffer.db), default store options.
tl::expected<dlq_target, std::string> default_dlq_resolver(const dlq_location& where);

// argv[0] is "dlq". Writes results to `out`, errors to `err`.
int run_dlq_command(int argc, char** argv, const dlq_resolver& resolve, std::FILE* out = stdout,
                    std::FILE* err = stderr);

}  // namespace tributary::gateway::forwarder
