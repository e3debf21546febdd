#include <doctest/doctest.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <fstream>
#include <map>

#include "common/metrics.h"
#include "gateway/buffer/buffer_metrics.h"
#include "gateway/buffer/buffer_store.h"
#include "test_support.h"

using namespace tributary;
using namespace tributary::gateway::buffer;
using tributary::test::err_of;
using tributary::test::make_reading;
using tributary::test::payload_of;
using tributary::test::raw_int;
using tributary::test::raw_sql;
using tributary::test::temp_dir;

namespace {

std::unique_ptr<buffer_store> open_ok(const std::string& path, const store_options& o = {}) {
  auto s = buffer_store::open(path, o);
  REQUIRE_MESSAGE(s, (s ? "" : s.error().message()));
  return std::move(*s);
}

std::error_code open_error(const std::string& path, const store_options& o = {}) {
  auto s = buffer_store::open(path, o);
  REQUIRE(!s);
  return s.error();
}

append_outcome append_ok(buffer_store& s, const std::vector<reading>& rows) {
  auto r = s.append_batch(rows);
  REQUIRE_MESSAGE(r, (r ? "" : r.error().message()));
  return std::move(*r);
}

std::vector<gateway_seq> seqs_of(const append_outcome& o) {
  std::vector<gateway_seq> out;
  for (const auto& r : o.rows) {
    REQUIRE(r);
    out.push_back(*r);
  }
  return out;
}

std::vector<stored_reading> peek_all(buffer_store& s, peek_cursor& c, int64_t now_ms = 0,
                                     size_t rows_max = 1000) {
  auto r = s.peek_batch(c, {rows_max, 1ull << 30, now_ms});
  REQUIRE(r);
  return std::move(*r);
}

std::vector<uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

const std::error_code buffer_full = make_error_code(errc::buffer_full);

}  // namespace

TEST_CASE("store: a new database has the schema version, WAL and seq 1") {
  temp_dir dir;
  auto path = dir.file("buffer.db");
  {
    auto s = open_ok(path);
    auto b = s->backlog();
    CHECK(b.rows == 0);
    CHECK(b.bytes == 0);
    CHECK(!b.oldest_receive_ms);
    CHECK(b.next_seq == gateway_seq(1));
    CHECK(b.file_bytes > 0);
  }
  CHECK(raw_int(path, "PRAGMA user_version") == schema_version);
  {
    // Header bytes 18 and 19 (file format write/read version) are 2 in WAL mode.
    std::ifstream f(path, std::ios::binary);
    char header[20] = {};
    REQUIRE(f.read(header, sizeof header));
    CHECK(header[18] == 2);
    CHECK(header[19] == 2);
  }
  CHECK(raw_int(path,
                "SELECT count(*) FROM sqlite_schema WHERE name IN ('readings', 'dead_letters', 'meta')") ==
        3);
}

TEST_CASE("store: option names parse") {
  CHECK(parse_synchronous_mode("off") == synchronous_mode::off);
  CHECK(parse_synchronous_mode("normal") == synchronous_mode::normal);
  CHECK(parse_synchronous_mode("full") == synchronous_mode::full);
  CHECK(parse_synchronous_mode("extra") == synchronous_mode::extra);
  CHECK(!parse_synchronous_mode("FULL"));
  CHECK(parse_overflow_policy("reject") == overflow_policy::reject);
  CHECK(parse_overflow_policy("drop-oldest") == overflow_policy::drop_oldest);
  CHECK(!parse_overflow_policy("drop_oldest"));
  for (auto m :
       {synchronous_mode::off, synchronous_mode::normal, synchronous_mode::full, synchronous_mode::extra}) {
    CHECK(parse_synchronous_mode(to_string(m)) == m);
  }
  for (auto p : {overflow_policy::reject, overflow_policy::drop_oldest})
    CHECK(parse_overflow_policy(to_string(p)) == p);
}

TEST_CASE("store: every synchronous mode opens and commits") {
  temp_dir dir;
  for (auto m :
       {synchronous_mode::off, synchronous_mode::normal, synchronous_mode::full, synchronous_mode::extra}) {
    store_options o;
    o.synchronous = m;
    auto s = open_ok(dir.file(std::string(to_string(m)) + ".db"), o);
    CHECK(append_ok(*s, {make_reading("x")}).accepted == 1);
  }
}

TEST_CASE("store: options out of range are refused") {
  temp_dir dir;
  auto bad = [&](auto mutate) {
    store_options o;
    mutate(o);
    CHECK(open_error(dir.file("b.db"), o) == make_error_code(errc::bad_option));
  };
  bad([](store_options& o) { o.page_size_bytes = 1000; });
  bad([](store_options& o) { o.page_size_bytes = 256; });
  bad([](store_options& o) { o.page_size_bytes = 131072; });
  bad([](store_options& o) { o.quota_bytes = 0; });
  bad([](store_options& o) { o.row_bytes_max = o.quota_bytes + 1; });
  bad([](store_options& o) { o.row_bytes_max = row_overhead_bytes; });
  bad([](store_options& o) { o.dead_letter_quota_bytes = o.row_bytes_max - 1; });
  bad([](store_options& o) { o.batch_rows_max = 0; });
  bad([](store_options& o) { o.headers_count_max = 0; });
  bad([](store_options& o) { o.reason_bytes_max = 0; });
  bad([](store_options& o) { o.cache_bytes = 1024; });
}

TEST_CASE("store: a reading round-trips with headers, keys and expiry") {
  temp_dir dir;
  auto s = open_ok(dir.file("b.db"));
  reading full;
  full.receive_ms = 1'700'000'000'123;
  full.topic = "alarms";
  full.key = bytes_of("device-7");
  full.headers = {
      {"gateway_id", bytes_of("gw-1")}, {"null", std::nullopt}, {"empty", std::vector<uint8_t>{}}};
  full.payload = bytes_of(std::string("\0binary\xff", 8));
  full.priority = 200;
  full.expires_ms = 1'700'000'060'000;
  reading bare;  // null key, no headers, empty payload
  bare.receive_ms = 5;
  bare.topic = "t";
  reading empty_key = bare;
  empty_key.key = std::vector<uint8_t>{};

  auto out = append_ok(*s, {full, bare, empty_key});
  auto seqs = seqs_of(out);
  REQUIRE(seqs.size() == 3);
  CHECK(seqs[0] == gateway_seq(1));
  CHECK(seqs[1] == gateway_seq(2));
  CHECK(seqs[2] == gateway_seq(3));

  auto f = s->find(seqs[0]);
  REQUIRE(f);
  REQUIRE(f->has_value());
  CHECK((*f)->r == full);
  CHECK((*f)->size == accounted_bytes(full));
  auto b = s->find(seqs[1]);
  REQUIRE((b && b->has_value()));
  CHECK((*b)->r == bare);
  CHECK(!(*b)->r.key.has_value());
  auto e = s->find(seqs[2]);
  REQUIRE((e && e->has_value()));
  CHECK((*e)->r == empty_key);
  REQUIRE((*e)->r.key.has_value());
  CHECK((*e)->r.key->empty());
  auto none = s->find(gateway_seq(99));
  REQUIRE(none);
  CHECK(!none->has_value());

  auto backlog = s->backlog();
  CHECK(backlog.rows == 3);
  CHECK(backlog.bytes == accounted_bytes(full) + accounted_bytes(bare) + accounted_bytes(empty_key));
  CHECK(backlog.oldest_receive_ms == full.receive_ms);
  CHECK(s->counters().appended_rows == 3);
}

TEST_CASE("store: invalid readings are refused one by one, the rest of the batch commits") {
  temp_dir dir;
  store_options o;
  o.row_bytes_max = 1024;
  o.headers_count_max = 2;
  auto s = open_ok(dir.file("b.db"), o);
  auto no_topic = make_reading("a");
  no_topic.topic.clear();
  auto long_topic = make_reading("a");
  long_topic.topic.assign(topic_bytes_max + 1, 't');
  auto nul_topic = make_reading("a");
  nul_topic.topic = std::string("a\0b", 3);
  auto many_headers = make_reading("a");
  many_headers.headers = {{"1", std::nullopt}, {"2", std::nullopt}, {"3", std::nullopt}};
  auto negative_time = make_reading("a");
  negative_time.receive_ms = -1;
  auto too_large = make_reading(std::string(1024, 'x'));
  auto edge = make_reading("");
  edge.payload.assign(1024 - accounted_bytes(edge), 'y');  // exactly row_bytes_max
  REQUIRE(accounted_bytes(edge) == 1024);

  auto out = append_ok(*s, {no_topic, make_reading("ok"), long_topic, nul_topic, many_headers, negative_time,
                            too_large, edge});
  REQUIRE(out.rows.size() == 8);
  auto invalid = make_error_code(errc::invalid_row);
  CHECK(err_of(out.rows[0]) == invalid);
  CHECK(out.rows[1] == gateway_seq(1));
  CHECK(err_of(out.rows[2]) == invalid);
  CHECK(err_of(out.rows[3]) == invalid);
  CHECK(err_of(out.rows[4]) == invalid);
  CHECK(err_of(out.rows[5]) == invalid);
  CHECK(err_of(out.rows[6]) == make_error_code(errc::row_too_large));
  CHECK(out.rows[7] == gateway_seq(2));  // an invalid row does not hold back the rows after it
  CHECK(out.accepted == 2);
  CHECK(s->counters().invalid_rows == 6);
  CHECK(err_of(check_reading(too_large, o)) == make_error_code(errc::row_too_large));
  CHECK(check_reading(edge, o) == uint64_t{1024});
  // The other edges: a topic of exactly topic_bytes_max, exactly headers_count_max headers.
  auto topic_edge = make_reading("a");
  topic_edge.topic.assign(topic_bytes_max, 't');
  auto headers_edge = make_reading("a");
  headers_edge.headers = {{"1", std::nullopt}, {"2", std::nullopt}};
  auto edges = append_ok(*s, {topic_edge, headers_edge});
  CHECK(edges.accepted == 2);
  auto back = s->find(*edges.rows[1]);
  REQUIRE((back && back->has_value()));
  CHECK((*back)->r == headers_edge);
}

TEST_CASE("store: rows checked by the caller are stored with the sizes it computed") {
  temp_dir dir;
  auto s = open_ok(dir.file("b.db"), {});
  std::vector<reading> rows = {make_reading("one"), make_reading("second")};
  rows[1].headers = {{"k", std::vector<uint8_t>{1, 2, 3}}};
  std::vector<uint64_t> sizes;
  for (const auto& r : rows) sizes.push_back(*check_reading(r, s->options()));
  auto out = s->append_batch(rows, sizes);
  REQUIRE(out);
  CHECK(out->accepted == 2);
  CHECK(s->backlog().bytes == sizes[0] + sizes[1]);
  auto back = s->find(*out->rows[1]);
  REQUIRE((back && back->has_value()));
  CHECK((*back)->r == rows[1]);
  CHECK((*back)->size == sizes[1]);  // read back and checked against the columns
  // One size per row, or the call is refused as a whole.
  CHECK(err_of(s->append_batch(rows, std::span<const uint64_t>(sizes).first(1))) ==
        make_error_code(errc::bad_option));
  CHECK(s->backlog().rows == 2);
}

TEST_CASE("store: headers handed over encoded are stored as given and read back as a list") {
  temp_dir dir;
  store_options o;
  o.headers_count_max = 2;
  auto s = open_ok(dir.file("b.db"), o);
  std::vector<header> hs{{"tributary.gateway", bytes_of("gw-1")}, {"null", std::nullopt}};
  auto encoded = make_reading("p");
  encode_headers(hs, encoded.headers_encoded);
  auto listed = make_reading("p");
  listed.headers = hs;
  CHECK(check_reading(encoded, o) == check_reading(listed, o));
  // Refused: both forms at once, a blob that does not decode, more than headers_count_max headers.
  auto both = encoded;
  both.headers = hs;
  auto damaged = encoded;
  damaged.headers_encoded.pop_back();
  auto too_many = make_reading("p");
  std::vector<header> three{{"1", std::nullopt}, {"2", std::nullopt}, {"3", std::nullopt}};
  encode_headers(three, too_many.headers_encoded);
  auto out = append_ok(*s, {encoded, both, damaged, too_many, listed});
  REQUIRE(out.rows.size() == 5);
  auto invalid = make_error_code(errc::invalid_row);
  CHECK(err_of(out.rows[1]) == invalid);
  CHECK(err_of(out.rows[2]) == invalid);
  CHECK(err_of(out.rows[3]) == invalid);
  REQUIRE(out.rows[0]);
  REQUIRE(out.rows[4]);
  auto a = s->find(*out.rows[0]);
  auto b = s->find(*out.rows[4]);
  REQUIRE((a && a->has_value() && b && b->has_value()));
  CHECK((*a)->r.headers == hs);
  CHECK((*a)->r.headers_encoded.empty());
  CHECK((*a)->r == (*b)->r);  // the same row, whichever form it was handed over in
  CHECK((*a)->size == accounted_bytes(encoded));
  CHECK(s->backlog().bytes == 2 * accounted_bytes(listed));
}

TEST_CASE("store: a large batch (multi-row INSERTs plus single ones) keeps input order and content") {
  temp_dir dir;
  auto s = open_ok(dir.file("b.db"));
  std::vector<reading> rows;
  for (int i = 0; i < 75; ++i) {  // two groups of 32 and the rest one by one, with refused rows among them
    auto r =
        make_reading("payload-" + std::to_string(i), static_cast<uint8_t>(i % 3), "dev-" + std::to_string(i));
    if (i % 4 == 1) r.headers = {{"i", bytes_of(std::to_string(i))}};
    if (i % 4 == 2)
      encode_headers(std::vector<header>{{"e", bytes_of(std::to_string(i))}}, r.headers_encoded);
    if (i % 4 == 3) r.expires_ms = 1'000'000 + i;
    if (i == 10 || i == 40) r.topic.clear();  // invalid: refused alone
    rows.push_back(std::move(r));
  }
  auto out = append_ok(*s, rows);
  REQUIRE(out.rows.size() == rows.size());
  CHECK(out.accepted == rows.size() - 2);
  int64_t expect = 1;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i == 10 || i == 40) {
      CHECK(err_of(out.rows[i]) == make_error_code(errc::invalid_row));
      continue;
    }
    REQUIRE(out.rows[i]);
    CHECK(*out.rows[i] == gateway_seq(expect++));
    auto back = s->find(*out.rows[i]);
    REQUIRE((back && back->has_value()));
    reading want = rows[i];
    if (!want.headers_encoded.empty()) {
      want.headers = *decode_headers(want.headers_encoded, 64);
      want.headers_encoded.clear();
    }
    CHECK((*back)->r == want);
    CHECK((*back)->size == accounted_bytes(rows[i]));
  }
}

TEST_CASE("store: batch limits") {
  temp_dir dir;
  store_options o;
  o.batch_rows_max = 3;
  auto s = open_ok(dir.file("b.db"), o);
  std::vector<reading> four(4, make_reading("x"));
  CHECK(err_of(s->append_batch(four)) == make_error_code(errc::batch_too_large));
  std::vector<reading> three(3, make_reading("x"));
  CHECK(append_ok(*s, three).accepted == 3);
  std::vector<gateway_seq> many{gateway_seq(1), gateway_seq(2), gateway_seq(3), gateway_seq(4)};
  CHECK(err_of(s->remove_delivered(many)) == make_error_code(errc::batch_too_large));
  CHECK(err_of(s->dead_letter_purge(many)) == make_error_code(errc::batch_too_large));
  CHECK(err_of(s->dead_letter_retry(many)) == make_error_code(errc::batch_too_large));
  CHECK(err_of(s->dead_letter_list(gateway_seq(0), 4)) == make_error_code(errc::batch_too_large));
  peek_cursor c;
  auto peeked = s->peek_batch(c, {100, 1 << 20, 0});
  REQUIRE(peeked);
  CHECK(peeked->size() == 3);  // rows_max is capped at batch_rows_max
  CHECK(append_ok(*s, {}).accepted == 0);
}

TEST_CASE("store: seq is monotonic across reopen and after every row was deleted") {
  temp_dir dir;
  auto path = dir.file("b.db");
  std::vector<gateway_seq> all;
  {
    auto s = open_ok(path);
    auto a = seqs_of(append_ok(*s, {make_reading("1"), make_reading("2"), make_reading("3")}));
    all.insert(all.end(), a.begin(), a.end());
    REQUIRE(s->remove_delivered(a) == size_t{3});
    CHECK(s->backlog().rows == 0);
    auto b = seqs_of(append_ok(*s, {make_reading("4")}));
    CHECK(b[0] == gateway_seq(4));
    all.push_back(b[0]);
    REQUIRE(s->remove_delivered(b) == size_t{1});
  }
  {
    auto s = open_ok(path);  // empty table: the high-water mark lives in meta
    CHECK(s->backlog().rows == 0);
    CHECK(s->backlog().next_seq == gateway_seq(5));
    auto c = seqs_of(append_ok(*s, {make_reading("5")}));
    CHECK(c[0] == gateway_seq(5));
    all.push_back(c[0]);
  }
  {
    auto s = open_ok(path);
    auto d = seqs_of(append_ok(*s, {make_reading("6"), make_reading("7")}));
    all.insert(all.end(), d.begin(), d.end());
  }
  for (size_t i = 1; i < all.size(); ++i) CHECK(all[i - 1] < all[i]);
}

TEST_CASE("store: reopen reports the backlog") {
  temp_dir dir;
  auto path = dir.file("b.db");
  uint64_t bytes = 0;
  {
    auto s = open_ok(path);
    std::vector<reading> rows{make_reading("a", 0, "k", 500), make_reading("bb", 0, "k", 700),
                              make_reading("ccc", 0, "k", 600)};
    for (auto& r : rows) bytes += accounted_bytes(r);
    append_ok(*s, rows);
    REQUIRE(s->move_to_dead_letter(gateway_seq(3), "bad", 900));
  }
  auto s = open_ok(path);
  auto b = s->backlog();
  CHECK(b.rows == 2);
  CHECK(b.bytes == bytes - accounted_bytes(make_reading("ccc", 0, "k")));
  CHECK(b.oldest_receive_ms == 500);
  CHECK(b.dead_letter_rows == 1);
  CHECK(b.dead_letter_bytes == accounted_bytes(make_reading("ccc", 0, "k")));
  CHECK(b.next_seq == gateway_seq(4));
}

TEST_CASE("store: peek in priority order, then seq order; per-key order holds") {
  temp_dir dir;
  auto s = open_ok(dir.file("b.db"));
  // Telemetry (priority 0) and alarms (priority 9) interleaved; each key within one priority.
  append_ok(*s, {make_reading("t1", 0, "a"), make_reading("A1", 9, "x"), make_reading("t2", 0, "b"),
                 make_reading("A2", 9, "y"), make_reading("t3", 0, "a"), make_reading("m1", 5, "m"),
                 make_reading("A3", 9, "x")});
  peek_cursor c;
  auto rows = peek_all(*s, c);
  std::vector<std::string> got;
  for (auto& r : rows) got.push_back(payload_of(r.r));
  CHECK(got == std::vector<std::string>{"A1", "A2", "A3", "m1", "t1", "t2", "t3"});
  // Within a key, seq ascending.
  std::map<std::string, int64_t> last;
  for (auto& r : rows) {
    std::string k(r.r.key->begin(), r.r.key->end());
    CHECK(r.seq.value > last[k]);
    last[k] = r.seq.value;
  }
  // Handed out: nothing more until new rows arrive or the cursor is reset.
  CHECK(peek_all(*s, c).empty());
  // A new alarm after the cursor moved through the telemetry is still found, and first.
  append_ok(*s, {make_reading("t4", 0, "a"), make_reading("A4", 9, "x")});
  auto more = peek_all(*s, c);
  REQUIRE(more.size() == 2);
  CHECK(payload_of(more[0].r) == "A4");
  CHECK(payload_of(more[1].r) == "t4");
  c.reset();
  CHECK(peek_all(*s, c).size() == 9);
}

TEST_CASE("store: peek limits in rows and bytes") {
  temp_dir dir;
  auto s = open_ok(dir.file("b.db"));
  append_ok(*s, {make_reading("aaaa"), make_reading("bbbb"), make_reading("cccc"), make_reading("dddd")});
  uint64_t one = accounted_bytes(make_reading("aaaa"));
  peek_cursor c;
  auto two = s->peek_batch(c, {2, 1 << 20, 0});
  REQUIRE(two);
  CHECK(two->size() == 2);
  auto by_bytes = s->peek_batch(c, {10, one + one / 2, 0});  // room for one row and a half
  REQUIRE(by_bytes);
  REQUIRE(by_bytes->size() == 1);
  CHECK(payload_of((*by_bytes)[0].r) == "cccc");
  auto tiny = s->peek_batch(c, {10, 1, 0});  // smaller than any row: the first is returned anyway
  REQUIRE(tiny);
  REQUIRE(tiny->size() == 1);
  CHECK(payload_of((*tiny)[0].r) == "dddd");
  auto zero = s->peek_batch(c, {0, 1 << 20, 0});
  REQUIRE(zero);
  CHECK(zero->empty());
}

TEST_CASE("store: remove_delivered deletes once and skips missing seqs") {
  temp_dir dir;
  auto s = open_ok(dir.file("b.db"));
  auto seqs = seqs_of(append_ok(*s, {make_reading("a"), make_reading("b"), make_reading("c")}));
  std::vector<gateway_seq> first{seqs[0], seqs[2], gateway_seq(77)};
  CHECK(s->remove_delivered(first) == size_t{2});
  CHECK(s->remove_delivered(first) == size_t{0});
  CHECK(s->backlog().rows == 1);
  CHECK(s->backlog().bytes == accounted_bytes(make_reading("b")));
  CHECK(s->backlog().oldest_receive_ms == 1000);
  CHECK(s->counters().delivered_rows == 2);
  CHECK(s->remove_delivered({}) == size_t{0});
}

TEST_CASE("store: quota with policy reject") {
  temp_dir dir;
  uint64_t one = accounted_bytes(make_reading("0123456789"));
  store_options o;
  o.quota_bytes = 3 * one;
  o.row_bytes_max = 2 * one;
  o.dead_letter_quota_bytes = 2 * one;
  o.overflow = overflow_policy::reject;
  auto s = open_ok(dir.file("b.db"), o);
  auto out = append_ok(*s, {make_reading("0123456789"), make_reading("0123456789")});
  CHECK(out.accepted == 2);
  // Exactly at the quota is allowed; one byte beyond is not.
  auto edge = append_ok(*s, {make_reading("0123456789"), make_reading("x")});
  CHECK(edge.accepted == 1);
  CHECK(err_of(edge.rows[1]) == buffer_full);
  CHECK(s->backlog().bytes == o.quota_bytes);
  // Once one row is refused, the later rows of the batch are too, even when they would fit.
  REQUIRE(s->remove_delivered(std::vector<gateway_seq>{gateway_seq(1)}) == size_t{1});
  auto big = make_reading(std::string(10, 'z'));
  big.payload.push_back('!');  // one byte more than the room left
  auto order = append_ok(*s, {big, make_reading("y")});
  CHECK(order.accepted == 0);
  CHECK(err_of(order.rows[0]) == buffer_full);
  CHECK(err_of(order.rows[1]) == buffer_full);
  CHECK(s->counters().rejected_rows == 3);
  CHECK(s->counters().evicted_rows == 0);
  // Room again after a delivery.
  CHECK(append_ok(*s, {make_reading("0123456789")}).accepted == 1);
  // Nothing rejected consumed a seq.
  CHECK(s->backlog().next_seq == gateway_seq(5));
}

TEST_CASE(
    "store: quota with policy drop-oldest evicts lowest priority, then oldest, in the same transaction") {
  temp_dir dir;
  uint64_t one = accounted_bytes(make_reading("0123456789"));
  store_options o;
  o.quota_bytes = 4 * one;
  o.row_bytes_max = one * 2;
  o.overflow = overflow_policy::drop_oldest;
  auto s = open_ok(dir.file("b.db"), o);
  // seq 1: alarm, 2: telemetry, 3: alarm, 4: telemetry
  append_ok(*s, {make_reading("A000000001", 9), make_reading("t000000002", 0), make_reading("A000000003", 9),
                 make_reading("t000000004", 0)});
  auto out = append_ok(*s, {make_reading("t000000005", 0)});
  CHECK(out.accepted == 1);
  CHECK(out.evicted_rows == 1);
  CHECK(out.evicted_bytes == one);
  CHECK(!s->find(gateway_seq(2))->has_value());  // the oldest telemetry went first
  out = append_ok(*s, {make_reading("t000000006", 0), make_reading("t000000007", 0)});
  CHECK(out.evicted_rows == 2);
  CHECK(!s->find(gateway_seq(4))->has_value());
  CHECK(!s->find(gateway_seq(5))->has_value());
  CHECK(s->find(gateway_seq(1))->has_value());  // alarms survive while telemetry can go
  CHECK(s->find(gateway_seq(3))->has_value());
  // A row twice as large evicts as many rows as needed (telemetry first, then the oldest alarm).
  auto wide = make_reading(std::string(10 + one, 'w'), 0);
  REQUIRE(accounted_bytes(wide) == 2 * one);
  out = append_ok(*s, {wide});
  CHECK(out.evicted_rows == 2);
  CHECK(!s->find(gateway_seq(6))->has_value());
  CHECK(!s->find(gateway_seq(7))->has_value());
  CHECK(s->find(gateway_seq(1))->has_value());
  CHECK(s->backlog().bytes <= o.quota_bytes);
  out = append_ok(*s, {make_reading("t000000009", 0)});
  CHECK(out.evicted_rows == 1);
  CHECK(!s->find(gateway_seq(8))->has_value());  // the wide telemetry row, lowest priority
  // Three alarms: the last telemetry row goes, then the oldest alarm.
  out = append_ok(*s, std::vector<reading>(3, make_reading("A00000000a", 9)));
  CHECK(out.evicted_rows == 2);
  CHECK(!s->find(gateway_seq(9))->has_value());
  CHECK(!s->find(gateway_seq(1))->has_value());
  CHECK(s->find(gateway_seq(3))->has_value());
  CHECK(s->counters().evicted_rows == 8);
  CHECK(s->counters().rejected_rows == 0);
  CHECK(s->backlog().bytes == o.quota_bytes);
  CHECK(s->backlog().rows == 4);
}

TEST_CASE("store: drop-oldest cuts a batch larger than the whole quota") {
  temp_dir dir;
  uint64_t one = accounted_bytes(make_reading("0123456789"));
  store_options o;
  o.quota_bytes = 2 * one;
  o.row_bytes_max = one;
  o.dead_letter_quota_bytes = one;
  o.overflow = overflow_policy::drop_oldest;
  auto s = open_ok(dir.file("b.db"), o);
  append_ok(*s, {make_reading("0123456789")});
  auto out =
      append_ok(*s, {make_reading("0123456789"), make_reading("0123456789"), make_reading("0123456789")});
  CHECK(out.accepted == 2);
  CHECK(err_of(out.rows[2]) == buffer_full);
  CHECK(out.evicted_rows == 1);
  CHECK(s->backlog().rows == 2);
}

TEST_CASE("store: TTL expiry removes and counts rows; peek skips them") {
  temp_dir dir;
  store_options o;
  o.batch_rows_max = 2;
  auto s = open_ok(dir.file("b.db"), o);
  auto at = [](std::string_view p, std::optional<int64_t> exp) {
    auto r = make_reading(p);
    r.expires_ms = exp;
    return r;
  };
  append_ok(*s, {at("e1", 100), at("keep", std::nullopt)});
  append_ok(*s, {at("e2", 150), at("late", 500)});
  append_ok(*s, {at("e3", 200)});
  peek_cursor c;
  auto live = peek_all(*s, c, 200, 2);
  REQUIRE(live.size() == 2);
  CHECK(payload_of(live[0].r) == "keep");
  CHECK(payload_of(live[1].r) == "late");

  auto first = s->expire(200);
  REQUIRE(first);
  CHECK(first->rows == 2);
  CHECK(first->more);
  CHECK(first->bytes == accounted_bytes(at("e1", 1)) + accounted_bytes(at("e2", 1)));
  auto second = s->expire(200);
  REQUIRE(second);
  CHECK(second->rows == 1);
  CHECK(!second->more);
  auto none = s->expire(200);
  REQUIRE(none);
  CHECK(none->rows == 0);
  CHECK(s->counters().expired_rows == 3);
  CHECK(s->backlog().rows == 2);
  auto later = s->expire(10'000);
  REQUIRE(later);
  CHECK(later->rows == 1);
  CHECK(s->find(gateway_seq(2))->has_value());  // no expiry: never expires
}

TEST_CASE("store: dead letters: move, list, retry, purge") {
  temp_dir dir;
  store_options o;
  o.reason_bytes_max = 8;
  auto s = open_ok(dir.file("b.db"), o);
  auto seqs =
      seqs_of(append_ok(*s, {make_reading("a"), make_reading("b"), make_reading("c"), make_reading("d")}));

  REQUIRE(s->move_to_dead_letter(seqs[2], "record too large for topic", 5000));
  REQUIRE(s->move_to_dead_letter(seqs[0], "unknown topic", 6000));
  CHECK(err_of(s->move_to_dead_letter(seqs[0], "again", 7000)) == make_error_code(errc::not_found));
  CHECK(err_of(s->move_to_dead_letter(gateway_seq(99), "x", 1)) == make_error_code(errc::not_found));
  CHECK(s->backlog().rows == 2);
  CHECK(s->backlog().dead_letter_rows == 2);
  CHECK(s->counters().dead_lettered_rows == 2);

  auto list = s->dead_letter_list(gateway_seq(0), 10);
  REQUIRE(list);
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].row.seq == seqs[0]);
  CHECK(payload_of((*list)[0].row.r) == "a");
  CHECK((*list)[0].reason == "unknown ");  // cut to reason_bytes_max
  CHECK((*list)[0].failed_ms == 6000);
  CHECK((*list)[1].row.seq == seqs[2]);
  CHECK((*list)[1].reason == "record t");
  auto after = s->dead_letter_list(seqs[0], 10);
  REQUIRE(after);
  REQUIRE(after->size() == 1);
  CHECK(after->front().row.seq == seqs[2]);

  // Retry: back under new seqs, in old-seq order, returned in the order asked.
  std::vector<gateway_seq> ask{seqs[2], seqs[0]};
  auto retried = s->dead_letter_retry(ask);
  REQUIRE(retried);
  REQUIRE(retried->size() == 2);
  CHECK((*retried)[1] == gateway_seq(5));  // old seq 1 first
  CHECK((*retried)[0] == gateway_seq(6));
  auto back = s->find((*retried)[1]);
  REQUIRE((back && back->has_value()));
  CHECK(payload_of((*back)->r) == "a");
  CHECK(s->backlog().dead_letter_rows == 0);
  CHECK(s->backlog().rows == 4);
  CHECK(s->counters().dead_letter_retried_rows == 2);
  CHECK(err_of(s->dead_letter_retry(std::vector<gateway_seq>{seqs[0]})) == make_error_code(errc::not_found));

  // Purge by seq and all.
  REQUIRE(s->move_to_dead_letter(seqs[1], "x", 1));
  REQUIRE(s->move_to_dead_letter(seqs[3], "y", 1));
  REQUIRE(s->move_to_dead_letter(gateway_seq(5), "z", 1));
  CHECK(s->dead_letter_purge(std::vector<gateway_seq>{seqs[1], gateway_seq(42)}) == size_t{1});
  CHECK(s->dead_letter_purge_all() == size_t{2});
  CHECK(s->dead_letter_purge_all() == size_t{0});
  CHECK(s->backlog().dead_letter_rows == 0);
  CHECK(s->backlog().dead_letter_bytes == 0);
  CHECK(s->counters().dead_letter_purged_rows == 3);
}

TEST_CASE("store: a reason is cut on a UTF-8 boundary") {
  temp_dir dir;
  store_options o;
  o.reason_bytes_max = 4;
  auto s = open_ok(dir.file("b.db"), o);
  append_ok(*s, {make_reading("a")});
  REQUIRE(s->move_to_dead_letter(gateway_seq(1), "ab\xc3\xa9z", 1));  // "abéz": é is 2 bytes at 2..3
  auto list = s->dead_letter_list(gateway_seq(0), 1);
  REQUIRE(list);
  CHECK(list->front().reason == "ab\xc3\xa9");
  REQUIRE(s->dead_letter_retry_oldest() == size_t{1});
  REQUIRE(s->move_to_dead_letter(gateway_seq(2), "abc\xc3\xa9", 1));  // é would straddle the cut
  list = s->dead_letter_list(gateway_seq(0), 1);
  REQUIRE(list);
  CHECK(list->front().reason == "abc");
}

TEST_CASE("store: dead letter retry is all or nothing under the quota") {
  temp_dir dir;
  uint64_t one = accounted_bytes(make_reading("0123456789"));
  store_options o;
  o.quota_bytes = 2 * one;
  o.row_bytes_max = one;
  o.dead_letter_quota_bytes = 4 * one;
  auto s = open_ok(dir.file("b.db"), o);
  append_ok(*s, {make_reading("0123456789"), make_reading("0123456789")});
  REQUIRE(s->move_to_dead_letter(gateway_seq(1), "x", 1));
  REQUIRE(s->move_to_dead_letter(gateway_seq(2), "x", 1));
  append_ok(*s, {make_reading("0123456789")});  // one row of room left
  CHECK(err_of(s->dead_letter_retry(std::vector<gateway_seq>{gateway_seq(1), gateway_seq(2)})) ==
        buffer_full);
  CHECK(s->backlog().dead_letter_rows == 2);  // nothing moved
  CHECK(s->backlog().rows == 1);
  CHECK(err_of(s->dead_letter_retry_oldest()) == buffer_full);
  REQUIRE(s->remove_delivered(std::vector<gateway_seq>{gateway_seq(3)}) == size_t{1});
  CHECK(s->dead_letter_retry_oldest() == size_t{2});
  CHECK(s->dead_letter_retry_oldest() == size_t{0});
  CHECK(s->backlog().rows == 2);
}

TEST_CASE("store: the dead letter quota drops the oldest dead letters") {
  temp_dir dir;
  uint64_t one = accounted_bytes(make_reading("0123456789"));
  store_options o;
  o.quota_bytes = 10 * one;
  o.row_bytes_max = one;
  o.dead_letter_quota_bytes = 2 * one;
  auto s = open_ok(dir.file("b.db"), o);
  append_ok(*s, std::vector<reading>(4, make_reading("0123456789")));
  // Out of seq order on purpose: the newcomer (seq 1) is never the one dropped.
  REQUIRE(s->move_to_dead_letter(gateway_seq(3), "x", 1));
  REQUIRE(s->move_to_dead_letter(gateway_seq(4), "x", 1));
  REQUIRE(s->move_to_dead_letter(gateway_seq(1), "x", 1));
  auto list = s->dead_letter_list(gateway_seq(0), 10);
  REQUIRE(list);
  REQUIRE(list->size() == 2);
  CHECK(list->at(0).row.seq == gateway_seq(1));
  CHECK(list->at(1).row.seq == gateway_seq(4));
  CHECK(s->counters().dead_letter_evicted_rows == 1);
  CHECK(s->backlog().dead_letter_bytes == 2 * one);
}

TEST_CASE("store: a database from a newer Tributary is refused with a clear error") {
  temp_dir dir;
  auto path = dir.file("b.db");
  { open_ok(path); }
  raw_sql(path, "PRAGMA user_version = " + std::to_string(schema_version + 1));
  auto s = buffer_store::open(path, {});
  REQUIRE(!s);
  CHECK(err_of(s) == make_error_code(errc::schema_too_new));
  CHECK(std::string(s.error().message()).find("newer") != std::string::npos);
}

namespace {

// One text value from a query on a separate raw connection ("" when no row).
std::string raw_value(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
  std::string out;
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != nullptr) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

// Turns a buffer file back into schema 1 (the full priority index), as a gateway before the
// partial index left it.
void make_schema_1(const std::string& path) {
  raw_sql(path,
          "DROP INDEX readings_by_priority; CREATE INDEX readings_by_priority ON readings(priority, seq);"
          " PRAGMA user_version = 1");
}

}  // namespace

TEST_CASE("store: a schema 1 buffer is migrated at open and keeps its backlog") {
  temp_dir dir;
  auto path = dir.file("b.db");
  std::vector<reading> rows{make_reading("t1", 0), make_reading("a2", 7), make_reading("t3", 0),
                            make_reading("a4", 7), make_reading("w5", 3)};
  { append_ok(*open_ok(path), rows); }
  make_schema_1(path);
  REQUIRE(raw_value(path, "PRAGMA user_version") == "1");
  REQUIRE(
      raw_value(path, "SELECT sql FROM sqlite_schema WHERE name = 'readings_by_priority'").find("WHERE") ==
      std::string::npos);
  auto s = open_ok(path);
  CHECK(raw_value(path, "PRAGMA user_version") == std::to_string(schema_version));
  CHECK(raw_value(path, "SELECT sql FROM sqlite_schema WHERE name = 'readings_by_priority'")
            .find("priority > 0") != std::string::npos);
  CHECK(s->backlog().rows == rows.size());
  CHECK(s->backlog().next_seq == gateway_seq(6));
  peek_cursor c;
  auto all = peek_all(*s, c);
  REQUIRE(all.size() == 5);
  std::vector<int64_t> order;
  for (auto& r : all) order.push_back(r.seq.value);
  CHECK(order == std::vector<int64_t>{2, 4, 5, 1, 3});  // priority 7, 3, then 0; seq order within
  CHECK(all[0].r == rows[1]);
  // It goes on from there: new rows after the old ones.
  CHECK(seqs_of(append_ok(*s, {make_reading("t6", 0)}))[0] == gateway_seq(6));
  s.reset();
  CHECK(open_ok(path)->backlog().rows == 6);  // and opens again without migrating
}

TEST_CASE("store: a schema 1 file that cannot be migrated is refused and left unchanged") {
  temp_dir dir;
  auto path = dir.file("b.db");
  { append_ok(*open_ok(path), {make_reading("x")}); }
  make_schema_1(path);
  raw_sql(path, "DROP INDEX readings_by_priority");  // not what schema 1 holds: the migration fails
  CHECK(open_error(path) == make_error_code(errc::not_a_buffer));
  CHECK(raw_value(path, "PRAGMA user_version") == "1");
  CHECK(raw_value(path, "SELECT count(*) FROM readings") == "1");
}

TEST_CASE("store: priority-0 rows among higher ones: peek and drop-oldest keep their order") {
  temp_dir dir;
  uint64_t one = accounted_bytes(make_reading("0123456789"));
  store_options o;
  o.quota_bytes = 6 * one;
  o.row_bytes_max = one;
  o.overflow = overflow_policy::drop_oldest;
  auto s = open_ok(dir.file("b.db"), o);
  // seq 1..6: 0, 5, 0, 5, 5, 0
  append_ok(*s,
            {make_reading("z000000001", 0), make_reading("f000000002", 5), make_reading("z000000003", 0),
             make_reading("f000000004", 5), make_reading("f000000005", 5), make_reading("z000000006", 0)});
  peek_cursor c;
  auto first = s->peek_batch(c, {4, 1 << 20, 0});
  REQUIRE(first);
  REQUIRE(first->size() == 4);
  CHECK(first->at(0).seq == gateway_seq(2));
  CHECK(first->at(2).seq == gateway_seq(5));
  CHECK(first->at(3).seq == gateway_seq(1));  // priority 0 after every higher row
  auto rest = s->peek_batch(c, {10, 1 << 20, 0});
  REQUIRE(rest);
  REQUIRE(rest->size() == 2);
  CHECK(rest->at(0).seq == gateway_seq(3));
  CHECK(rest->at(1).seq == gateway_seq(6));
  // Full: each new row evicts the oldest priority-0 row, then (none left) the oldest of priority 5.
  for (int i = 7; i <= 10; ++i) {
    auto digits = std::to_string(i);
    append_ok(*s, {make_reading("f" + std::string(9 - digits.size(), '0') + digits, 5)});
  }
  CHECK(!s->find(gateway_seq(1))->has_value());
  CHECK(!s->find(gateway_seq(3))->has_value());
  CHECK(!s->find(gateway_seq(6))->has_value());
  CHECK(!s->find(gateway_seq(2))->has_value());
  CHECK(s->find(gateway_seq(4))->has_value());
  // A new priority-0 row (above the eviction mark) makes room by evicting seq 4, then is the next
  // to go itself.
  append_ok(*s, {make_reading("z000000011", 0)});
  CHECK(!s->find(gateway_seq(4))->has_value());
  CHECK(s->find(gateway_seq(11))->has_value());
  append_ok(*s, {make_reading("f000000012", 5)});
  CHECK(!s->find(gateway_seq(11))->has_value());
  CHECK(s->find(gateway_seq(5))->has_value());
  CHECK(s->counters().evicted_rows == 6);
  CHECK(s->backlog().rows == 6);
}

TEST_CASE("store: a foreign SQLite database is not a buffer") {
  temp_dir dir;
  auto path = dir.file("other.db");
  raw_sql(path, "CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT)");
  CHECK(open_error(path) == make_error_code(errc::not_a_buffer));
  auto ours_in_name = dir.file("v1.db");
  raw_sql(ours_in_name, "CREATE TABLE readings(x); PRAGMA user_version = 1");  // right version, wrong tables
  CHECK(open_error(ours_in_name) == make_error_code(errc::not_a_buffer));
}

TEST_CASE("store: a file that is not a database is corrupt, not a crash") {
  temp_dir dir;
  auto path = dir.file("b.db");
  {
    std::ofstream f(path, std::ios::binary);
    for (int i = 0; i < 4096; ++i) f.put(static_cast<char>((i * 7919) & 0xff));
  }
  CHECK(open_error(path) == make_error_code(errc::corrupt));
}

TEST_CASE("store: damaged pages of a real database give corrupt, not a crash") {
  temp_dir dir;
  auto path = dir.file("b.db");
  {
    store_options o;
    o.page_size_bytes = 4096;
    auto s = open_ok(path, o);
    for (int i = 0; i < 20; ++i) append_ok(*s, std::vector<reading>(50, make_reading(std::string(200, 'p'))));
  }  // closing checkpoints the WAL into the main file
  REQUIRE(raw_int(path, "PRAGMA page_count") > 10);
  {
    // Garbage over every page after the first (the header stays valid).
    int fd = ::open(path.c_str(), O_WRONLY);
    REQUIRE(fd >= 0);
    std::vector<char> junk(4096);
    for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>((i * 31 + 7) & 0xff);
    off_t size = ::lseek(fd, 0, SEEK_END);
    for (off_t at = 4096; at < size; at += 4096) REQUIRE(::pwrite(fd, junk.data(), junk.size(), at) == 4096);
    ::close(fd);
  }
  store_options o;
  auto s = buffer_store::open(path, o);
  if (s) {  // the damage may be found later, on first read
    peek_cursor c;
    auto r = (*s)->peek_batch(c, {100, 1 << 20, 0});
    REQUIRE(!r);
    CHECK(err_of(r) == make_error_code(errc::corrupt));
  } else {
    CHECK(err_of(s) == make_error_code(errc::corrupt));
  }
  o.check_on_open = true;
  CHECK(open_error(path, o) == make_error_code(errc::corrupt));
}

TEST_CASE("store: a row that fails its checks is corrupt") {
  temp_dir dir;
  auto path = dir.file("b.db");
  auto s = open_ok(path);
  append_ok(*s, {make_reading("a"), make_reading("b"), make_reading("c")});
  raw_sql(path,
          "UPDATE readings SET size = size + 1 WHERE seq = 1;"
          "UPDATE readings SET headers = x'0203' WHERE seq = 2;"
          "UPDATE readings SET priority = 300 WHERE seq = 3;");
  CHECK(err_of(s->find(gateway_seq(1))) == make_error_code(errc::corrupt));
  CHECK(err_of(s->find(gateway_seq(2))) == make_error_code(errc::corrupt));
  CHECK(err_of(s->find(gateway_seq(3))) == make_error_code(errc::corrupt));
  CHECK(!s->last_error_message().empty());
}

TEST_CASE("store: a high-water mark below a stored seq is corrupt") {
  temp_dir dir;
  auto path = dir.file("b.db");
  { append_ok(*open_ok(path), {make_reading("a"), make_reading("b")}); }
  raw_sql(path, "UPDATE meta SET value = 2 WHERE name = 'next_seq'");
  CHECK(open_error(path) == make_error_code(errc::corrupt));
  raw_sql(path, "DELETE FROM meta");
  CHECK(open_error(path) == make_error_code(errc::corrupt));
}

TEST_CASE("store: a directory that refuses files gives cannot_open") {
  temp_dir dir;
  CHECK(open_error("/proc/tributary-buffer.db") == make_error_code(errc::cannot_open));  // read-only FS
  CHECK(open_error(dir.file("missing/b.db")) == make_error_code(errc::cannot_open));
  if (::geteuid() != 0) {  // root ignores permission bits
    auto ro = dir.file("ro");
    REQUIRE(::mkdir(ro.c_str(), 0555) == 0);
    CHECK(open_error(ro + "/b.db") == make_error_code(errc::cannot_open));
    auto file = dir.file("ro-file.db");
    { open_ok(file); }
    REQUIRE(::chmod(file.c_str(), 0444) == 0);
    CHECK(open_error(file) == make_error_code(errc::read_only));
  } else {
    MESSAGE("running as root: permission-bit cases skipped (the /proc case still ran)");
  }
}

TEST_CASE("store: another connection holding the write lock gives busy after busy_timeout_ms") {
  temp_dir dir;
  auto path = dir.file("b.db");
  store_options o;
  o.busy_timeout_ms = 50;
  auto s = open_ok(path, o);
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  auto r = s->append_batch(std::vector<reading>{make_reading("a")});
  REQUIRE(!r);
  CHECK(err_of(r) == make_error_code(errc::busy));
  REQUIRE(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(other);
  CHECK(append_ok(*s, {make_reading("a")}).rows[0] == gateway_seq(1));  // nothing was consumed
}

TEST_CASE("store: writes by another connection (the dlq command) are picked up") {
  temp_dir dir;
  auto path = dir.file("b.db");
  auto gateway = open_ok(path);
  append_ok(*gateway, {make_reading("a"), make_reading("b")});
  REQUIRE(gateway->move_to_dead_letter(gateway_seq(1), "x", 1));
  {
    auto cli = open_ok(path);
    CHECK(cli->dead_letter_retry_oldest() == size_t{1});  // seq 3
    append_ok(*cli, {make_reading("c")});                 // seq 4
  }
  CHECK(gateway->backlog().rows == 1);  // stale until the next transaction or refresh()
  REQUIRE(gateway->refresh());
  CHECK(gateway->backlog().rows == 3);
  CHECK(gateway->backlog().dead_letter_rows == 0);
  auto next = append_ok(*gateway, {make_reading("d")});
  CHECK(next.rows[0] == gateway_seq(5));
}

TEST_CASE("store: file_bytes_max stops growth with disk_full; the store stays usable") {
  temp_dir dir;
  store_options o;
  o.page_size_bytes = 4096;
  o.file_bytes_max = 256 * 1024;
  auto s = open_ok(dir.file("b.db"), o);
  std::error_code ec;
  int batches = 0;
  for (; batches < 200; ++batches) {
    auto r = s->append_batch(std::vector<reading>(20, make_reading(std::string(1000, 'f'))));
    if (!r) {
      ec = r.error();
      break;
    }
  }
  CHECK(ec == make_error_code(errc::disk_full));
  CHECK(batches > 0);
  auto before = s->backlog();
  CHECK(before.rows == static_cast<uint64_t>(batches) * 20);  // the failed batch left nothing behind
  std::vector<gateway_seq> some;
  for (int64_t i = 1; i <= 40; ++i) some.emplace_back(i);
  REQUIRE(s->remove_delivered(some) == size_t{40});
  auto again = s->append_batch(std::vector<reading>(20, make_reading(std::string(1000, 'f'))));
  REQUIRE(again);
  CHECK(again->rows[0] == before.next_seq);  // the failed transaction consumed no seq
}

TEST_CASE("store: backlog metrics come from the snapshot") {
  temp_dir dir;
  auto s = open_ok(dir.file("b.db"));
  metrics::registry reg;
  register_store_metrics(reg, *s, [] { return int64_t{4000}; });
  auto text = reg.render_prometheus();
  CHECK(text.find("tributary_gateway_buffer_backlog_rows 0\n") != std::string::npos);
  CHECK(text.find("tributary_gateway_buffer_oldest_age_seconds 0\n") != std::string::npos);
  append_ok(*s, {make_reading("a", 0, "k", 1500), make_reading("b", 0, "k", 3000)});
  REQUIRE(s->move_to_dead_letter(gateway_seq(2), "x", 1));
  text = reg.render_prometheus();
  CHECK(text.find("tributary_gateway_buffer_backlog_rows 1\n") != std::string::npos);
  CHECK(text.find("tributary_gateway_buffer_backlog_bytes " +
                  std::to_string(accounted_bytes(make_reading("a", 0, "k")))) != std::string::npos);
  CHECK(text.find("tributary_gateway_buffer_oldest_age_seconds 2.5\n") != std::string::npos);
  CHECK(text.find("tributary_gateway_buffer_dead_letter_rows 1\n") != std::string::npos);
  CHECK(text.find("tributary_gateway_buffer_appended_rows_total 2\n") != std::string::npos);
  CHECK(text.find("tributary_gateway_buffer_dead_lettered_rows_total 1\n") != std::string::npos);
}
