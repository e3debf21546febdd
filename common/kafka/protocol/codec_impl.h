#pragma once
// The visitors behind codec.h: one walk over a message description per task (decode, encode, size,
// minimum size, print). Included by codec.cc, which instantiates them for every described message,
// and by tests; other code uses codec.h.
#include <algorithm>
#include <charconv>
#include <string>
#include <string_view>
#include <type_traits>

#include "common/assert.h"
#include "common/kafka/protocol/codec.h"

namespace tributary::kafka::protocol::detail {

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};
template <class>
inline constexpr bool dependent_false = false;

// Member types with a null form on the wire (usable inside std::optional).
template <class T>
inline constexpr bool has_null_form = std::is_same_v<T, std::string> || std::is_same_v<T, bytes> ||
                                      std::is_same_v<T, records_view> || is_vector<T>::value;

// ------------------------------------------------------------------------------------------------
// Tagged fields: written only when different from their default.
template <class T>
bool is_tag_default(const T& value, const field_spec& spec) {
  if constexpr (std::is_enum_v<T>) {
    return static_cast<int64_t>(static_cast<std::underlying_type_t<T>>(value)) == spec.tag_default;
  } else if constexpr (std::is_integral_v<T>) {
    return static_cast<int64_t>(value) == spec.tag_default;
  } else {
    TRIB_ASSERT(spec.tag_default == 0, "tag_default applies to integer and bool fields only");
    return value == T{};
  }
}

// ------------------------------------------------------------------------------------------------
// Sizing: a writer that only counts, mirroring byte_writer exactly.
class size_counter {
 public:
  size_t size() const { return n_; }
  void write_i8(int8_t) { n_ += 1; }
  void write_i16(int16_t) { n_ += 2; }
  void write_u16(uint16_t) { n_ += 2; }
  void write_i32(int32_t) { n_ += 4; }
  void write_i64(int64_t) { n_ += 8; }
  void write_f64(double) { n_ += 8; }
  void write_uvarint(uint32_t v) { n_ += uvarint_size(v); }
  void write_raw(byte_span s) { n_ += s.size(); }
  void write_string(std::string_view s) { n_ += 2 + s.size(); }
  void write_compact_string(std::string_view s) { n_ += uvarint_size(s.size() + 1) + s.size(); }
  void write_nullable_string(std::optional<std::string_view>) { n_ += 2; }
  void write_compact_nullable_string(std::optional<std::string_view>) { n_ += 1; }
  void write_bytes(byte_span b) { n_ += 4 + b.size(); }
  void write_compact_bytes(byte_span b) { n_ += uvarint_size(b.size() + 1) + b.size(); }
  void write_nullable_bytes(std::optional<byte_span>) { n_ += 4; }
  void write_compact_nullable_bytes(std::optional<byte_span>) { n_ += 1; }
  void write_array_length(std::optional<uint32_t>) { n_ += 4; }
  void write_compact_array_length(std::optional<uint32_t> n) { n_ += n ? uvarint_size(uint64_t{*n} + 1) : 1; }

 private:
  size_t n_ = 0;
};

// ------------------------------------------------------------------------------------------------
// Encoding (Out = byte_writer) and sizing (Out = size_counter). The null writers above are only
// called with nullopt.
template <class Out>
class encoder {
 public:
  encoder(Out& out, int16_t version, bool flexible) : out_(out), version_(version), flexible_(flexible) {}

  Out& out() { return out_; }
  int16_t version() const { return version_; }

  // The field visitor: the untagged fields of this version, in order.
  template <class T>
  void operator()(const T& value, const char* /*name*/, const field_spec& spec = {}) {
    if (spec.tag >= 0 || !spec.in(version_)) return;
    write(value, spec);
  }

  template <class T>
  void write(const T& value, const field_spec& spec) {
    if constexpr (std::is_same_v<T, bool>) {
      out_.write_i8(value ? 1 : 0);
    } else if constexpr (std::is_enum_v<T>) {
      write(static_cast<std::underlying_type_t<T>>(value), spec);
    } else if constexpr (std::is_same_v<T, int8_t>) {
      out_.write_i8(value);
    } else if constexpr (std::is_same_v<T, int16_t>) {
      out_.write_i16(value);
    } else if constexpr (std::is_same_v<T, uint16_t>) {
      out_.write_u16(value);
    } else if constexpr (std::is_same_v<T, int32_t>) {
      out_.write_i32(value);
    } else if constexpr (std::is_same_v<T, int64_t>) {
      out_.write_i64(value);
    } else if constexpr (std::is_same_v<T, double>) {
      out_.write_f64(value);
    } else if constexpr (std::is_same_v<T, uuid>) {
      out_.write_raw(byte_span(value.value));
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (flexible_) {
        out_.write_compact_string(value);
      } else {
        out_.write_string(value);
      }
    } else if constexpr (std::is_same_v<T, bytes> || std::is_same_v<T, records_view>) {
      byte_span b;
      if constexpr (std::is_same_v<T, bytes>) {
        b = byte_span(value);
      } else {
        b = value.data;
      }
      if (flexible_) {
        out_.write_compact_bytes(b);
      } else {
        out_.write_bytes(b);
      }
    } else if constexpr (is_vector<T>::value) {
      TRIB_ASSERT(value.size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max()));
      auto n = static_cast<uint32_t>(value.size());
      if (flexible_) {
        out_.write_compact_array_length(n);
      } else {
        out_.write_array_length(n);
      }
      for (const auto& e : value) write(e, field_spec{});
    } else if constexpr (is_optional<T>::value) {
      static_assert(has_null_form<typename T::value_type>, "std::optional of a type with no null form");
      if (value) return write(*value, spec);
      TRIB_ASSERT(version_ >= spec.nullable_from, "null in a version where the field is not nullable");
      write_null<typename T::value_type>();
    } else if constexpr (described<T>) {
      write_struct(value);
    } else {
      static_assert(dependent_false<T>, "no wire type for this member type");
    }
  }

  template <described S>
  void write_struct(const S& s);

 private:
  template <class X>
  void write_null() {
    if constexpr (std::is_same_v<X, std::string>) {
      if (flexible_) {
        out_.write_compact_nullable_string(std::nullopt);
      } else {
        out_.write_nullable_string(std::nullopt);
      }
    } else if constexpr (std::is_same_v<X, bytes> || std::is_same_v<X, records_view>) {
      if (flexible_) {
        out_.write_compact_nullable_bytes(std::nullopt);
      } else {
        out_.write_nullable_bytes(std::nullopt);
      }
    } else {
      if (flexible_) {
        out_.write_compact_array_length(std::nullopt);
      } else {
        out_.write_array_length(std::nullopt);
      }
    }
  }

  Out& out_;
  int16_t version_;
  bool flexible_;
};

struct tag_counter {
  int16_t version;
  uint32_t count = 0;
  template <class T>
  void operator()(const T& value, const char*, const field_spec& spec = {}) {
    if (spec.tag >= 0 && spec.in(version) && !is_tag_default(value, spec)) ++count;
  }
};

template <class Out>
struct tag_writer {
  encoder<Out>& enc;
  int32_t last_tag = -1;
  uint32_t written = 0;
  template <class T>
  void operator()(const T& value, const char*, const field_spec& spec = {}) {
    if (spec.tag < 0 || !spec.in(enc.version()) || is_tag_default(value, spec)) return;
    TRIB_ASSERT(spec.tag > last_tag, "tagged fields must be described in ascending tag order");
    last_tag = spec.tag;
    size_counter counter;
    encoder<size_counter> sizer(counter, enc.version(), true);
    sizer.write(value, spec);
    TRIB_ASSERT(counter.size() <= std::numeric_limits<uint32_t>::max());
    enc.out().write_uvarint(static_cast<uint32_t>(spec.tag));
    enc.out().write_uvarint(static_cast<uint32_t>(counter.size()));
    enc.write(value, spec);
    ++written;
  }
};

template <class Out>
template <described S>
void encoder<Out>::write_struct(const S& s) {
  S::fields(s, *this);
  if (!flexible_) return;
  tag_counter counter{version_};
  S::fields(s, counter);
  out_.write_uvarint(counter.count);
  tag_writer<Out> tags{*this};
  S::fields(s, tags);
  TRIB_ASSERT(tags.written == counter.count);
}

// ------------------------------------------------------------------------------------------------
// The smallest encoding of a value of type T: bounds array counts before anything is allocated.
template <class T>
size_t min_encoded_size(int16_t version, bool flexible);

struct min_size_visitor {
  int16_t version;
  bool flexible;
  size_t n = 0;
  template <class T>
  void operator()(const T&, const char*, const field_spec& spec = {}) {
    if (spec.tag >= 0 || !spec.in(version)) return;
    n += min_encoded_size<T>(version, flexible);
  }
};

template <class T>
size_t min_encoded_size(int16_t version, bool flexible) {
  if constexpr (std::is_enum_v<T>) {
    return sizeof(std::underlying_type_t<T>);
  } else if constexpr (std::is_same_v<T, bool>) {
    return 1;
  } else if constexpr (std::is_arithmetic_v<T>) {
    return sizeof(T);
  } else if constexpr (std::is_same_v<T, uuid>) {
    return 16;
  } else if constexpr (std::is_same_v<T, std::string>) {
    return flexible ? 1 : 2;
  } else if constexpr (std::is_same_v<T, bytes> || std::is_same_v<T, records_view>) {
    return flexible ? 1 : 4;
  } else if constexpr (is_vector<T>::value) {
    return flexible ? 1 : 4;
  } else if constexpr (is_optional<T>::value) {
    return min_encoded_size<typename T::value_type>(version, flexible);  // null forms are as long
  } else if constexpr (described<T>) {
    min_size_visitor v{version, flexible};
    const T prototype{};
    T::fields(prototype, v);
    return v.n + (flexible ? 1 : 0);
  } else {
    static_assert(dependent_false<T>, "no wire type for this member type");
  }
}

// ------------------------------------------------------------------------------------------------
// Decoding. Errors are left as the reader reports them (bytes::errc) or as protocol::errc;
// decode_body maps them all to protocol::errc.
struct decode_state {
  int16_t version;
  bool flexible;
  uint32_t elements_left;
};

class decoder {
 public:
  decoder(byte_reader& r, decode_state& st) : r_(r), st_(st) {}

  std::error_code error() const { return err_; }

  // The field visitor: the untagged fields of this version, in order; stops at the first error.
  template <class T>
  void operator()(T& value, const char* /*name*/, const field_spec& spec = {}) {
    if (err_ || spec.tag >= 0 || !spec.in(st_.version)) return;
    if (auto res = read(value, spec); !res) err_ = res.error();
  }

  template <class T>
  result<void> read(T& value, const field_spec& spec) {
    if constexpr (std::is_same_v<T, bool>) {
      value = TRIB_TRY(r_.read_i8()) != 0;
    } else if constexpr (std::is_enum_v<T>) {
      std::underlying_type_t<T> raw{};
      TRIB_TRY_VOID(read(raw, spec));
      value = static_cast<T>(raw);
    } else if constexpr (std::is_same_v<T, int8_t>) {
      value = TRIB_TRY(r_.read_i8());
    } else if constexpr (std::is_same_v<T, int16_t>) {
      value = TRIB_TRY(r_.read_i16());
    } else if constexpr (std::is_same_v<T, uint16_t>) {
      value = TRIB_TRY(r_.read_u16());
    } else if constexpr (std::is_same_v<T, int32_t>) {
      value = TRIB_TRY(r_.read_i32());
    } else if constexpr (std::is_same_v<T, int64_t>) {
      value = TRIB_TRY(r_.read_i64());
    } else if constexpr (std::is_same_v<T, double>) {
      value = TRIB_TRY(r_.read_f64());
    } else if constexpr (std::is_same_v<T, uuid>) {
      auto raw = TRIB_TRY(r_.read_span(value.value.size()));
      std::copy(raw.begin(), raw.end(), value.value.begin());
    } else if constexpr (is_optional<T>::value) {
      static_assert(has_null_form<typename T::value_type>, "std::optional of a type with no null form");
      value.emplace();
      bool null = TRIB_TRY(read_nullable(*value));
      if (null) {
        value.reset();
        if (st_.version < spec.nullable_from) return fail(errc::unexpected_null);
      }
    } else if constexpr (has_null_form<T>) {
      bool null = TRIB_TRY(read_nullable(value));
      if (null) return fail(errc::unexpected_null);
    } else if constexpr (described<T>) {
      return read_struct(value);
    } else {
      static_assert(dependent_false<T>, "no wire type for this member type");
    }
    return {};
  }

  template <described S>
  result<void> read_struct(S& s);

 private:
  // Reads a string, bytes, records or array; returns true for null (out untouched).
  template <class X>
  result<bool> read_nullable(X& out) {
    const bool flex = st_.flexible;
    if constexpr (std::is_same_v<X, std::string>) {
      auto s = TRIB_TRY(flex ? r_.read_compact_nullable_string() : r_.read_nullable_string());
      if (!s) return true;
      out.assign(s->data(), s->size());
    } else if constexpr (std::is_same_v<X, bytes> || std::is_same_v<X, records_view>) {
      auto b = TRIB_TRY(flex ? r_.read_compact_nullable_bytes() : r_.read_nullable_bytes());
      if (!b) return true;
      if constexpr (std::is_same_v<X, bytes>) {
        out.assign(b->begin(), b->end());
      } else {
        out.data = *b;
      }
    } else {
      using element = typename X::value_type;
      const size_t min_bytes = min_encoded_size<element>(st_.version, flex);
      auto n = TRIB_TRY(flex ? r_.read_compact_array_length(min_bytes) : r_.read_array_length(min_bytes));
      if (!n) return true;
      if (*n > st_.elements_left) return fail(errc::too_many_elements);
      st_.elements_left -= *n;
      out.clear();
      out.resize(*n);
      for (auto& e : out) TRIB_TRY_VOID(read(e, field_spec{}));
    }
    return false;
  }

  byte_reader& r_;
  decode_state& st_;
  std::error_code err_;
};

// Decodes the value of one known tagged field from its own sub-reader.
struct tag_reader {
  byte_reader& r;
  decode_state& st;
  uint32_t tag;
  bool found = false;
  std::error_code err;
  template <class T>
  void operator()(T& value, const char*, const field_spec& spec = {}) {
    if (found || spec.tag < 0 || static_cast<uint32_t>(spec.tag) != tag || !spec.in(st.version)) return;
    found = true;
    decoder d(r, st);
    if (auto res = d.read(value, spec); !res) err = res.error();
  }
};

template <described S>
result<void> decoder::read_struct(S& s) {
  S::fields(s, *this);
  if (err_) return fail(err_);
  if (!st_.flexible) return {};
  const uint32_t count = TRIB_TRY(r_.read_uvarint());
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t tag = TRIB_TRY(r_.read_uvarint());
    const uint32_t size = TRIB_TRY(r_.read_uvarint());
    byte_reader value = TRIB_TRY(r_.sub_reader(size));
    tag_reader known{value, st_, tag};
    S::fields(s, known);
    if (known.err) return fail(known.err);
    if (known.found && !value.empty()) return fail(errc::bad_tagged_field);
    // Unknown tags (and tags of fields absent from this version) are skipped.
  }
  return {};
}

// ------------------------------------------------------------------------------------------------
// Printing, for logs and test failures.
class printer {
 public:
  std::string out;

  template <class T>
  void operator()(const T& value, const char* name, const field_spec& = {}) {
    if (!first_) out += ", ";
    first_ = false;
    out += name;
    out += '=';
    print(value);
  }

  template <class T>
  void print(const T& value) {
    if constexpr (std::is_same_v<T, bool>) {
      out += value ? "true" : "false";
    } else if constexpr (std::is_same_v<T, error_code>) {
      out += error_code_name(value);
      out += '(' + std::to_string(static_cast<int>(value)) + ')';
    } else if constexpr (std::is_enum_v<T>) {
      out += std::to_string(static_cast<int64_t>(value));
    } else if constexpr (std::is_arithmetic_v<T>) {
      out += std::to_string(value);
    } else if constexpr (std::is_same_v<T, uuid>) {
      hex(byte_span(value.value), value.value.size());
    } else if constexpr (std::is_same_v<T, std::string>) {
      out += '"';
      out += value;
      out += '"';
    } else if constexpr (std::is_same_v<T, bytes>) {
      hex(byte_span(value), 32);
    } else if constexpr (std::is_same_v<T, records_view>) {
      out += "records(" + std::to_string(value.data.size()) + " bytes)";
    } else if constexpr (is_vector<T>::value) {
      out += '[';
      for (size_t i = 0; i < value.size(); ++i) {
        if (i > 0) out += ", ";
        print(value[i]);
      }
      out += ']';
    } else if constexpr (is_optional<T>::value) {
      if (value) {
        print(*value);
      } else {
        out += "null";
      }
    } else if constexpr (described<T>) {
      printer nested;
      T::fields(value, nested);
      out += '{' + nested.out + '}';
    } else {
      static_assert(dependent_false<T>, "no wire type for this member type");
    }
  }

 private:
  void hex(byte_span b, size_t max_bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    out += "0x";
    for (size_t i = 0; i < b.size() && i < max_bytes; ++i) {
      out += digits[b[i] >> 4];
      out += digits[b[i] & 0xf];
    }
    if (b.size() > max_bytes) out += "...(" + std::to_string(b.size()) + " bytes)";
  }

  bool first_ = true;
};

}  // namespace tributary::kafka::protocol::detail
