// Fuzzes the controller's decoders (cluster/controller/metadata.h): a group-0 command, a
// metadata snapshot, and a leader report (leader_report.h: decodes re-encode to the same report). For any
// input: no crash, no exception; a command that decodes re-encodes to a command that decodes the same;
// applying it to a small cluster never breaks the state's invariants (a snapshot of the result restores the
// same state).
#include <cstddef>
#include <cstdint>
#include <string>

#include "cluster/controller/leader_report.h"
#include "cluster/controller/metadata.h"
#include "common/assert.h"

using namespace tributary;
using namespace tributary::cluster::controller;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  if (auto c = decode(in)) {
    auto again = decode(encode(*c));
    TRIB_ASSERT(again.has_value() && encode(*again) == encode(*c));
    metadata m;
    for (uint64_t i = 1; i <= 3; ++i)
      TRIB_ASSERT(m.apply(register_node{node_id{i}, "h:" + std::to_string(i), "h:1" + std::to_string(i)}));
    (void)m.apply(*c);
    auto back = metadata::from_json(m.to_json());
    TRIB_ASSERT(back.has_value() && *back == m);
  }
  auto j = nlohmann::json::parse(in.begin(), in.end(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded()) {
    if (auto m = metadata::from_json(j)) {
      auto back = metadata::from_json(m->to_json());
      TRIB_ASSERT(back.has_value() && *back == *m);
    }
  }
  if (auto r = decode_leader_report(in)) {
    auto again = decode_leader_report(encode(*r));
    TRIB_ASSERT(again.has_value() && *again == *r);
  }
  return 0;
}
