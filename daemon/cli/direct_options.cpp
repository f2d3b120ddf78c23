#include "cli/direct_options.hpp"

namespace ecmgw::cli {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(LinkOptions, device, host, port, framing, protocol,
                                                address, unit, profile, profiles_dir, meter_type,
                                                baud, parity, data_bits, stop_bits, timeout_ms,
                                                quantities, json, socket)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SwitchOptions, link, action, password, privilege,
                                                operator_code, valid_s, timezone)

nlohmann::json options_json(const LinkOptions& o) { return o; }
nlohmann::json options_json(const SwitchOptions& o) { return o; }
LinkOptions link_options_of(const nlohmann::json& j) { return j.get<LinkOptions>(); }
SwitchOptions switch_options_of(const nlohmann::json& j) { return j.get<SwitchOptions>(); }

}  // namespace ecmgw::cli
