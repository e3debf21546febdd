#pragma once
// The vocabulary of message descriptions.
//
// A message is a plain struct whose members are its fields, plus one static function that lists
// them in wire order with the versions they exist in:
//
//   struct heartbeat_request {
//     static constexpr const api_info& api = heartbeat_api;   // key, versions, first flexible
//     std::string group_id;
//     int32_t generation_id = 0;
//     std::string member_id;
//     std::optional<std::string> group_instance_id;
//
//     static void fields(auto& s, auto& v) {
//       v(s.group_id, "group_id");
//       v(s.generation_id, "generation_id");
//       v(s.member_id, "member_id");
//       v(s.group_instance_id, "group_instance_id", {.min = 3});
//     }
//     bool operator==(const heartbeat_request&) const = default;
//   };
//
// The codec (codec.h) walks that list to decode, encode and size a message at any version, classic
// or flexible. Adding a field in a new version = one member + one line with its `.min`; removing
// one = a `.max`. A field absent from a version keeps its default member initializer on decode, so
// defaults must be the protocol's defaults.
//
// Wire types follow the C++ member types:
//   bool, int8_t, int16_t, uint16_t, int32_t, int64_t, double, enums (as their underlying int)
//   uuid                  16 raw bytes
//   std::string           STRING / COMPACT_STRING
//   bytes                 BYTES / COMPACT_BYTES (owning)
//   records_view          RECORDS: the length-prefixed record set, carried opaque and not owned
//   std::vector<T>        ARRAY / COMPACT_ARRAY of any of these or of a described struct
//   std::optional<T>      the NULLABLE form of a string, bytes, records or array
//   a described struct    its fields inline (a struct-typed field), then its tagged fields
// In flexible versions every struct (and the body) ends with its tagged fields. A field with
// `.tag = n` is written there, only when it differs from its default (`.tag_default` for integers
// and bools, the value-initialized T otherwise); tagged fields of a struct are listed in ascending
// tag order. Unknown tags are skipped on decode.
#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/kafka/protocol/api.h"
#include "common/kafka/protocol/error_code.h"

namespace tributary::kafka::protocol {

inline constexpr int16_t k_last_version = std::numeric_limits<int16_t>::max();

// Where one field lives among the versions of its message. Designated initializers keep each
// description on one line: {.min = 3}, {.min = 1, .max = 2}, {.min = 12, .tag = 0}.
struct field_spec {
  int16_t min = 0;               // first version with the field
  int16_t max = k_last_version;  // last version with the field
  int16_t nullable_from = 0;     // std::optional members: first version in which null is allowed
  int16_t tag = -1;              // >= 0: a tagged field (flexible versions only)
  int64_t tag_default = 0;       // tagged integer/bool fields: the value that is left out

  constexpr bool in(int16_t version) const { return version >= min && version <= max; }
};

using bytes = std::vector<uint8_t>;

struct uuid {
  std::array<uint8_t, 16> value{};
  bool operator==(const uuid&) const = default;
};

// RECORDS: a record set (RecordBatch v2, or the older message sets) carried as opaque bytes. It
// borrows: a decoded request's records point into the request frame, and a response's records
// into whatever buffer the caller filled them from; that memory must outlive the use.
struct records_view {
  byte_span data;
  bool operator==(const records_view& o) const { return std::ranges::equal(data, o.data); }
};

namespace detail {
struct any_field_visitor {
  template <class... A>
  void operator()(A&&...) const {}
};
}  // namespace detail

// A struct with a field description: a message, or a nested struct of one.
template <class T>
concept described = requires(T& t, detail::any_field_visitor& v) {
  T::fields(t, v);
};

// A message: a described struct that names its API.
template <class T>
concept message = described<T> && requires {
  { T::api } -> std::convertible_to<const api_info&>;
};

}  // namespace tributary::kafka::protocol
