// Meter profiles: the register map of one Modbus meter model, as a data file under
// config/profiles/ (installed to /usr/share/ecmgw/profiles). A profile says where each
// quantity is, how to decode it, the model's factory serial settings and how to switch
// its relay or valve. The file format is documented in docs/profiles.md; every mistake
// in a file is reported with file:line:column like the gateway's config.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ecmgw/common/expected.hpp"
#include "ecmgw/config/types.hpp"
#include "ecmgw/protocols/modbus_map.hpp"

namespace ecmgw::config {

struct Profile {
    std::string name;  // the file's stem, e.g. "eastron-sdm120"; meters refer to it
    std::string vendor, model, description;
    std::string kind;         // "electricity" or "water"
    int default_baud = 9600;  // the model's factory setting
    Parity default_parity = Parity::None;
    modbus::PlanLimits limits;
    std::vector<modbus::Point> points;
    std::optional<modbus::SwitchControl> relay;  // electricity meters
    std::optional<modbus::SwitchControl> valve;  // water meters
    std::string source;  // the manual (title, version) the map was taken from

    const modbus::Point* find_point(std::string_view quantity) const;
    friend bool operator==(const Profile&, const Profile&) = default;
};

// Parses and checks one profile's text; `file_name` is used in error messages only and
// `name` becomes Profile::name. Returns every error found.
Expected<Profile, ConfigErrors> parse_profile(std::string_view text, std::string_view file_name,
                                              std::string_view name);
// Reads and parses one file; the profile's name is the file's stem.
Expected<Profile, ConfigErrors> load_profile(const std::filesystem::path& path);

// Every *.toml file directly in `dir`: the profiles that loaded (by name) and the errors
// of those that did not. A missing or unreadable directory is one error without a line.
struct ProfileLoad {
    std::vector<Profile> profiles;
    ConfigErrors errors;
};
ProfileLoad load_profiles_partial(const std::filesystem::path& dir);
// The same, all or nothing: any broken file fails the whole load, with every error.
Expected<std::vector<Profile>, ConfigErrors> load_profiles(const std::filesystem::path& dir);

// nullptr when no profile has that name.
const Profile* find_profile(const std::vector<Profile>& profiles, std::string_view name);

}  // namespace ecmgw::config
