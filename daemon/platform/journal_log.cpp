#include "platform/journal_log.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
// The sink's own file and line would be the same on every entry: leave them out.
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace ecmgw::platform {

namespace {

// Native journal entries rather than lines on stderr: the fields stay fields, and a
// message with a line break stays one entry.
class JournalSink final : public spdlog::sinks::base_sink<std::mutex> {
  public:
    explicit JournalSink(std::string identifier) : identifier_(std::move(identifier)) {}

  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        const auto fields =
            journal_fields(msg.level, std::string_view(msg.payload.data(), msg.payload.size()),
                           identifier_, log_context());
        std::vector<iovec> iov;
        iov.reserve(fields.size());
        for (const auto& f : fields) {
            iov.push_back({const_cast<char*>(f.data()), f.size()});
        }
        if (sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) < 0) {
            // Refused (too large, out of buffers): the line still reaches the unit's stderr.
            std::fprintf(stderr, "<%d>%.*s\n", journal_priority(msg.level),
                         static_cast<int>(msg.payload.size()), msg.payload.data());
        }
    }
    void flush_() override {}

  private:
    std::string identifier_;
};

}  // namespace

int journal_priority(spdlog::level::level_enum level) {
    switch (level) {
        case spdlog::level::critical:
            return 2;  // LOG_CRIT
        case spdlog::level::err:
            return 3;  // LOG_ERR
        case spdlog::level::warn:
            return 4;  // LOG_WARNING
        case spdlog::level::info:
            return 6;  // LOG_INFO
        default:
            return 7;  // LOG_DEBUG: debug and trace
    }
}

std::vector<std::string> journal_fields(spdlog::level::level_enum level, std::string_view message,
                                        std::string_view identifier, const LogContext& context) {
    std::vector<std::string> fields;
    fields.push_back("MESSAGE=" + std::string(message));
    fields.push_back("PRIORITY=" + std::to_string(journal_priority(level)));
    fields.push_back("SYSLOG_IDENTIFIER=" + std::string(identifier));
    if (!context.bus.empty()) fields.push_back("BUS=" + context.bus);
    if (!context.meter.empty()) fields.push_back("METER=" + context.meter);
    return fields;
}

bool stderr_is_journal() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    if (stream == nullptr) return false;
    unsigned long long dev = 0;
    unsigned long long ino = 0;
    if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
    struct stat st {};
    if (::fstat(2, &st) != 0) return false;
    return static_cast<unsigned long long>(st.st_dev) == dev &&
           static_cast<unsigned long long>(st.st_ino) == ino;
}

std::shared_ptr<spdlog::logger> make_logger(const std::string& name) {
    // sd_journal_sendv() drops entries silently when journald's socket is missing.
    if (stderr_is_journal() && ::access("/run/systemd/journal/socket", W_OK) == 0) {
        auto logger = std::make_shared<spdlog::logger>(name, std::make_shared<JournalSink>(name));
        spdlog::register_logger(logger);
        return logger;
    }
    auto logger = spdlog::stderr_color_mt(name);
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
    return logger;
}

}  // namespace ecmgw::platform
