#include "platform/log_context.hpp"

namespace ecmgw::platform {

namespace {

thread_local LogContext t_context;

std::string& slot(LogField field) {
    return field == LogField::Bus ? t_context.bus : t_context.meter;
}

}  // namespace

const LogContext& log_context() { return t_context; }

LogScope::LogScope(LogField field, std::string value)
    : field_(field), previous_(std::exchange(slot(field), std::move(value))) {}

LogScope::~LogScope() { slot(field_) = std::move(previous_); }

}  // namespace ecmgw::platform
