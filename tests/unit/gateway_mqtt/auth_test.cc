// The password file (gateway/auth/password_file.h).
#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "gateway/auth/password_file.h"

using namespace tributary;
using namespace tributary::gateway::auth;

namespace {

// Made by `mosquitto_passwd -c -b file alice secret` (mosquitto 2.0, Debian 12).
constexpr std::string_view mosquitto_line =
    "alice:$7$101$Cnpr0LczJt8Dmtj3$tGrd4i5FENc6kDDh6UiYB0IOHW0ZkNeGfJYl3hHIQ0bgLCd949qLlWpNyBqM+"
    "e6JhnSnWmbb0yMoN6n9VHxbXg==";

}  // namespace

TEST_CASE("a new hash verifies its password and nothing else; it survives format and parse") {
  auto h = make_hash("s3cret", 1000);
  REQUIRE(h);
  CHECK(h->salt.size() == salt_bytes);
  CHECK(verify(*h, as_bytes("s3cret")));
  CHECK(!verify(*h, as_bytes("s3cret ")));
  CHECK(!verify(*h, as_bytes("")));
  const std::string text = format_hash(*h);
  CHECK(text.starts_with("$pbkdf2-sha256$1000$"));
  auto back = parse_hash(text);
  REQUIRE(back);
  CHECK(verify(*back, as_bytes("s3cret")));
  auto other = make_hash("s3cret", 1000);
  REQUIRE(other);
  CHECK(other->salt != h->salt);  // salted
}

TEST_CASE("an empty password is a password like another") {
  auto h = make_hash("", 10);
  REQUIRE(h);
  CHECK(verify(*h, as_bytes("")));
  CHECK(!verify(*h, as_bytes("x")));
}

TEST_CASE("mosquitto_passwd files work unchanged") {
  auto db = password_db::parse(std::string(mosquitto_line) + "\n", "mosq.passwd");
  REQUIRE_MESSAGE(db, (db ? "" : db.error()));
  CHECK(db->verify("alice", as_bytes("secret")));
  CHECK(!db->verify("alice", as_bytes("Secret")));
  CHECK(!db->verify("bob", as_bytes("secret")));
}

TEST_CASE("the file: comments, blank lines, CRLF; errors with line numbers") {
  auto h = make_hash("pw", 10);
  REQUIRE(h);
  std::string text = "# users\n\nbob:" + format_hash(*h) + "\r\n  # indented comment\n";
  auto db = password_db::parse(text, "f");
  REQUIRE(db);
  CHECK(db->size() == 1);
  CHECK(db->verify("bob", as_bytes("pw")));
  CHECK(password_db::parse("bob\n", "f").error() == "f:1: expected user:hash");
  CHECK(password_db::parse("\nbob:$md5$x$y\n", "f").error() ==
        "f:2: user \"bob\": unknown hash scheme \"$md5$\" (known: $pbkdf2-sha256$, $7$, $6$)");
  CHECK(password_db::parse("bob:$pbkdf2-sha256$0$AAAA$AAAA\n", "f").error() ==
        "f:1: user \"bob\": iterations \"0\" is not an integer in [1, 10000000]");
  CHECK(password_db::parse("bob:$pbkdf2-sha256$10$!!!!$AAAA\n", "f").error() ==
        "f:1: user \"bob\": the salt is not base64");
  CHECK(password_db::parse("bob:$pbkdf2-sha256$10$AAAA$AAAA\n", "f").error() ==
        "f:1: user \"bob\": the hash is 3 bytes, expected 32");
  CHECK(password_db::parse(":" + format_hash(*h) + "\n", "f").error() == "f:1: the user name is empty");
  CHECK(password_db::parse("a:" + format_hash(*h) + "\na:" + format_hash(*h) + "\n", "f").error() ==
        "f:2: user \"a\" appears twice");
}

TEST_CASE("set_user adds or replaces one line and keeps the rest") {
  auto h1 = make_hash("one", 10);
  auto h2 = make_hash("two", 10);
  REQUIRE(h1);
  REQUIRE(h2);
  auto t1 = set_user("# header\n", "carol", *h1);
  REQUIRE(t1);
  CHECK(t1->starts_with("# header\ncarol:$pbkdf2-sha256$10$"));
  auto t2 = set_user(*t1, "carol", *h2);
  REQUIRE(t2);
  auto db = password_db::parse(*t2, "f");
  REQUIRE(db);
  CHECK(db->size() == 1);
  CHECK(db->verify("carol", as_bytes("two")));
  CHECK(!db->verify("carol", as_bytes("one")));
  CHECK(set_user("", "bad:name", *h1).error() == "the user name holds ':' or a control character");
}

TEST_CASE("write_file_atomically: mode 0600, replaces") {
  std::string dir = (std::filesystem::temp_directory_path() / "trib-auth-XXXXXX").string();
  REQUIRE(::mkdtemp(dir.data()) != nullptr);
  const std::string path = dir + "/users";
  REQUIRE(write_file_atomically(path, "a\n"));
  REQUIRE(write_file_atomically(path, "b\n"));
  auto text = read_text_file(path, false);
  REQUIRE(text);
  CHECK(*text == "b\n");
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(read_text_file(dir + "/missing", true).value() == "");
  CHECK(!read_text_file(dir + "/missing", false));
  CHECK(!write_file_atomically(dir + "/no/such/dir/file", "x"));
  std::filesystem::remove_all(dir);
}
