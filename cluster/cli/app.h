#pragma once
// The whole `tributary` command line: the root app, the global options and every command group.
// main.cc parses and runs; unit tests parse the very same command line without running anything.
#include <optional>
#include <ostream>
#include <vector>

#include "cluster/cli/common.h"

namespace tributary::cluster::cli {

// The exit codes, as printed at the end of every --help.
extern const char* const k_exit_codes_help;

// The root app without command groups: name, description, --version, the global options, and
// fallthrough (inherited by every subcommand added afterwards, so global options go anywhere).
void prepare_root(CLI::App& app, global_options& global);

// prepare_root, then each group of the one list in app.cc, then the exit codes under every --help.
// The parsed subcommand sets `chosen`.
void build_command_line(CLI::App& app, global_options& global, command_fn& chosen);

// Parses the arguments (argv[0] excluded). Returns an exit code when the program must stop now: 0 after
// --help or --version (printed to `out`), exit_usage after a usage error (one line on `err`); nullopt
// when `chosen` is ready to run.
std::optional<int> parse_command_line(CLI::App& app, std::vector<std::string> args, std::ostream& out,
                                      std::ostream& err);

}  // namespace tributary::cluster::cli
