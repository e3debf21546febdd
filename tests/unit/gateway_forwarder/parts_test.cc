// The forwarder core's small parts: error classification and the rate meter.
#include <doctest/doctest.h>

#include "gateway/forwarder/core/error_class.h"
#include "gateway/forwarder/core/rate_meter.h"

using namespace tributary::gateway::forwarder;

TEST_CASE("classification: the issue's non-retriable errors go to the dead-letter table") {
  // Broker refusals of a batch: the row is sent alone before it is judged.
  CHECK(classify(code::msg_size_too_large, error_origin::delivery) == error_class::record);
  CHECK(classify(code::invalid_record, error_origin::delivery) == error_class::record);
  CHECK(classify(code::record_list_too_large, error_origin::delivery) == error_class::record);
  // librdkafka's own size check at produce time concerns this row alone.
  CHECK(classify(code::msg_size_too_large, error_origin::produce_call) == error_class::record_final);
  CHECK(classify(code::invalid_arg, error_origin::produce_call) == error_class::record_final);
  CHECK(classify(code::topic_authorization_failed, error_origin::delivery) == error_class::topic);
  CHECK(classify(code::topic_exception, error_origin::delivery) == error_class::topic);
  CHECK(classify(code::policy_violation, error_origin::delivery) == error_class::topic);
  CHECK(classify(code::unknown_topic_or_part, error_origin::delivery) == error_class::unknown_topic);
  CHECK(classify(code::unknown_topic, error_origin::produce_call) == error_class::unknown_topic);
}

TEST_CASE("classification: the network, the cluster's moods and unknown codes are retriable") {
  for (int32_t c :
       {code::msg_timed_out, code::transport, code::timed_out, code::all_brokers_down, code::purge_queue,
        code::purge_inflight, code::destroy, code::queue_full, int32_t{5} /* LEADER_NOT_AVAILABLE */,
        int32_t{6} /* NOT_LEADER */, int32_t{7} /* timeout */, int32_t{19} /* NOT_ENOUGH_REPLICAS */,
        int32_t{2} /* CORRUPT_MESSAGE */, int32_t{9999}, int32_t{-1}}) {
    CAPTURE(c);
    CHECK(classify(c, error_origin::delivery) == error_class::retriable);
  }
}

TEST_CASE("classification: the producer's own trouble is never the row's") {
  for (int32_t c :
       {code::fatal, code::authentication, code::ssl, code::sasl_authentication_failed,
        code::cluster_authorization_failed, code::out_of_order_sequence_number, code::unknown_producer_id,
        code::invalid_producer_epoch, code::unsupported_compression_type}) {
    CAPTURE(c);
    CHECK(classify(c, error_origin::delivery) == error_class::producer);
  }
  for (auto c : all_error_classes) CHECK(!to_string(c).empty());
}

TEST_CASE("rate meter: complete buckets of the window") {
  rate_meter m(10000, 1000);
  CHECK(m.per_second(0) == 0);
  m.add(500, 100);
  CHECK(m.per_second(900) == 0);  // the first bucket is not complete
  CHECK(m.per_second(1000) == doctest::Approx(100));
  m.add(1500, 300);
  CHECK(m.per_second(2000) == doctest::Approx(200));  // 400 over 2 s
  // Much later: the window has moved past everything.
  CHECK(m.per_second(60000) == 0);
  m.add(60500, 50);
  CHECK(m.per_second(61000) == doctest::Approx(5));  // a full 10 s window now
}

TEST_CASE("rate meter: a gap clears the buckets it skipped") {
  rate_meter m(3000, 1000);
  m.add(0, 30);
  m.add(1000, 30);
  m.add(2000, 30);
  CHECK(m.per_second(3000) == doctest::Approx(30));
  m.add(5500, 90);
  CHECK(m.per_second(6000) == doctest::Approx(30));  // buckets 3, 4 empty, 5 = 90
}
