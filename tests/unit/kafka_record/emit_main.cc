// kafka_record_emit <expected.json> <out-dir>: encodes the fixtures' contents with our builder so
// make_fixtures.py crosscheck can decode them with real clients (kafka-python, librdkafka).
//   <name>.bin         every fixture batch rebuilt with the same header fields and records
//   ours_<codec>.bin   kp_uncompressed's records compressed with each codec, no producer id
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>

#include "tests/unit/kafka_record/fixture_util.h"

using namespace tributary::kafka;
using namespace tributary::kafka::test;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <expected.json> <out-dir>\n", argv[0]);
    return 2;
  }
  try {
    const json doc = read_json(argv[1]);
    const std::filesystem::path out = argv[2];
    std::filesystem::create_directories(out);
    for (const auto& [name, batch] : doc.at("batches").items())
      write_file(out / (name + ".bin"), rebuild(batch));

    const auto records = records_from_json(doc.at("batches").at("kp_uncompressed").at("records"));
    for (uint8_t c = 0; c <= 4; ++c) {
      const auto codec = static_cast<compression_codec>(c);
      record_batch_builder b({.codec = codec});
      add_records(b, records, 0);
      auto built = b.build();
      if (!built) throw std::runtime_error("build failed: " + built.error().message());
      write_file(out / ("ours_" + std::string(codec_name(codec)) + ".bin"), *built);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kafka_record_emit: %s\n", e.what());
    return 1;
  }
  return 0;
}
