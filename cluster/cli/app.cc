#include "cluster/cli/app.h"

#include <algorithm>

#include <CLI/CLI.hpp>

#include "cluster/cli/cluster.h"
#include "cluster/cli/consume.h"
#include "cluster/cli/group.h"
#include "cluster/cli/produce.h"
#include "cluster/cli/topic.h"

#ifndef TRIB_VERSION
#define TRIB_VERSION "0.0.0"
#endif

namespace tributary::cluster::cli {
namespace {

// The one list of command groups. A new group (group list|describe, cluster status|...) is its own
// file with an add_<group>_commands function, and one line here.
constexpr add_commands_fn k_command_groups[] = {
    add_topic_commands, add_produce_command, add_consume_command, add_group_commands, add_cluster_commands,
};

void add_footer(CLI::App& app) {
  app.footer(k_exit_codes_help);
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) add_footer(*sub);
}

}  // namespace

const char* const k_exit_codes_help =
    "Exit codes:\n"
    "  0    success\n"
    "  1    the cluster refused or failed the request (topic exists, unknown topic, a record not\n"
    "       delivered, part of a description missing)\n"
    "  2    usage: bad arguments, a property librdkafka refuses, unreadable input\n"
    "  3    the cluster did not answer within --timeout-ms (unreachable, connection refused)\n"
    "  4    consume: --timeout-ms passed without a record before --count records arrived\n"
    "  130  interrupted by SIGINT or SIGTERM\n"
    "Global options (-b, -X, --timeout-ms, --json, -v) may also follow the subcommand.";

void prepare_root(CLI::App& app, global_options& global) {
  app.description("tributary: the admin CLI of a Tributary cluster (any Kafka-protocol cluster works)");
  app.name("tributary");
  app.fallthrough();  // inherited by every subcommand added below: global options go anywhere
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("tributary ") + TRIB_VERSION);
  add_global_options(app, global);
}

void build_command_line(CLI::App& app, global_options& global, command_fn& chosen) {
  prepare_root(app, global);
  for (const add_commands_fn add : k_command_groups) add(app, chosen);
  add_footer(app);
}

std::optional<int> parse_command_line(CLI::App& app, std::vector<std::string> args, std::ostream& out,
                                      std::ostream& err) {
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last first
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    app.exit(e, out, err);
    return exit_ok;
  } catch (const CLI::CallForAllHelp& e) {
    app.exit(e, out, err);
    return exit_ok;
  } catch (const CLI::CallForVersion& e) {
    app.exit(e, out, err);
    return exit_ok;
  } catch (const CLI::ParseError& e) {
    err << "tributary: " << e.what() << " (see --help)\n";
    return exit_usage;
  }
  return std::nullopt;
}

}  // namespace tributary::cluster::cli
