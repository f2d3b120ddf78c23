// What the current thread is working on, for the log: a bus poller names its bus for
// its whole life and each meter while it talks to it. The journald sink turns these
// into the journal fields BUS= and METER=, so `journalctl -u ecmgw METER=E-0101`
// finds one meter's story among thousands of lines.
#pragma once

#include <string>
#include <utility>

namespace ecmgw::platform {

struct LogContext {
    std::string bus;
    std::string meter;
};

// This thread's context (empty fields: not set).
const LogContext& log_context();

enum class LogField { Bus, Meter };

// Sets one field for the scope and puts the previous value back after it, so scopes
// nest (a meter inside a bus) and an exception cannot leave a stale name behind.
class LogScope {
  public:
    LogScope(LogField field, std::string value);
    ~LogScope();
    LogScope(const LogScope&) = delete;
    LogScope& operator=(const LogScope&) = delete;

  private:
    LogField field_;
    std::string previous_;
};

}  // namespace ecmgw::platform
