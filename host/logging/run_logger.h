#pragma once
// spdlog behind sdk::Logger. Compiled without LibTorch's include path: LibTorch ships its
// own fmt, which clashes with the fmt Debian's spdlog is built against.

#include <looplab/sdk/logger.h>

#include <memory>
#include <string>

namespace looplab::host {

/// A logger writing "[HH:MM:SS] level message" to stderr and, if `file` is not empty, to that
/// file (flushed every line, so a crash loses nothing).
std::shared_ptr<sdk::Logger> make_logger(const std::string& file = "");

}  // namespace looplab::host
