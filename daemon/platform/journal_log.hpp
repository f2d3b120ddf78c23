// The daemon's logger: under systemd (stderr is the journal's stream, JOURNAL_STREAM),
// each line goes to journald natively with PRIORITY=, SYSLOG_IDENTIFIER= and the
// thread's LogContext as BUS= and METER=; elsewhere to stderr with a time stamp.
#pragma once

#include <spdlog/common.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "platform/log_context.hpp"

namespace spdlog {
class logger;
}

namespace ecmgw::platform {

// The syslog priority journald files a line under (PRIORITY=).
int journal_priority(spdlog::level::level_enum level);

// The fields of one journal entry, "NAME=value" each: MESSAGE, PRIORITY,
// SYSLOG_IDENTIFIER, then BUS and METER when the context has them.
std::vector<std::string> journal_fields(spdlog::level::level_enum level, std::string_view message,
                                        std::string_view identifier, const LogContext& context);

// Whether this process's stderr is the journal stream systemd connected (the
// JOURNAL_STREAM device:inode pair matches fd 2). A technician's shell inherits no
// such stream, so its commands keep printing to the terminal.
bool stderr_is_journal();

// The logger `name` for the daemon and the command line, as described above.
std::shared_ptr<spdlog::logger> make_logger(const std::string& name);

}  // namespace ecmgw::platform
