// Relay and alarm control (0x1C): who may command the meter, and the commands' names.
#include <algorithm>
#include <cctype>

#include "ecmgw/protocols/dlt645.hpp"

namespace ecmgw::dlt645 {

namespace {

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

bool all_digits(std::string_view text) {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

// `text` holds 2 × N digits, most significant first; the wire wants packed BCD with the
// lowest two digits first, like the address. A secret is not repeated in the message, which
// ends up in logs.
template <std::size_t N>
Expected<std::array<std::uint8_t, N>> pack_digits(std::string_view what, std::string_view text,
                                                  bool secret) {
    if (text.size() != 2 * N || !all_digits(text)) {
        return fail(std::string(what) + (secret ? "" : " " + quoted(text)) + " is not " +
                    std::to_string(2 * N) + " decimal digits");
    }
    std::array<std::uint8_t, N> out{};
    for (std::size_t byte = 0; byte < N; ++byte) {
        const std::size_t high = 2 * N - 2 - 2 * byte;
        out[byte] = static_cast<std::uint8_t>((text[high] - '0') << 4 | (text[high + 1] - '0'));
    }
    return out;
}

}  // namespace

Expected<ControlAuth> ControlAuth::parse(std::uint8_t privilege, std::string_view password_6_digits,
                                         std::string_view operator_8_digits) {
    auto password = pack_digits<3>("password", password_6_digits, true);
    if (!password) return unexpected(password.error());
    auto operator_code = pack_digits<4>("operator code", operator_8_digits, false);
    if (!operator_code) return unexpected(operator_code.error());
    ControlAuth auth;
    auth.privilege = privilege;
    auth.password = *password;
    auth.operator_code = *operator_code;
    return auth;
}

std::string_view control_command_name(ControlCommand command) {
    switch (command) {
        case ControlCommand::Trip:
            return "trip";
        case ControlCommand::CloseAllowed:
            return "close allowed";
        case ControlCommand::DirectClose:
            return "direct close";
        case ControlCommand::Alarm:
            return "alarm";
        case ControlCommand::AlarmRelease:
            return "alarm release";
        case ControlCommand::KeepPower:
            return "keep power";
        case ControlCommand::KeepPowerRelease:
            return "keep power release";
    }
    return "unknown";
}

}  // namespace ecmgw::dlt645
