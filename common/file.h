#pragma once
// Small files that must survive a crash whole: the new content or the old, never a mix.
#include <filesystem>
#include <string>

#include "common/bytes.h"
#include "common/result.h"

namespace tributary {

// Writes `data` to `file` durably and atomically: a temporary file beside it (`<file>.tmp`), fsync,
// rename over `file`, fsync of the directory. Errors are errno values (std::system_category).
result<void> write_file_durably(const std::filesystem::path& file, byte_span data);

// The whole content of `file`; std::errc::no_such_file_or_directory when it does not exist.
result<std::string> read_small_file(const std::filesystem::path& file);

// fsync of a directory (after creating, renaming or removing entries in it).
result<void> fsync_directory(const std::filesystem::path& dir);

}  // namespace tributary
