// Faults a simulated meter can have, switchable per meter (`--fault METER:KIND[=VALUE]`):
// what goes wrong with its answers, decided by a seeded PRNG so that a test run repeats
// exactly, and the byte surgery that makes an answer corrupt or misaddressed. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "ecmgw/common/expected.hpp"
#include "ecmgw/protocols/dlt645.hpp"

namespace ecmgw::sim {

struct FaultSpec {
    bool dead = false;            // never answers, hears nothing
    double drop = 0;              // fraction of answers lost on the wire
    double corrupt = 0;           // fraction of answers with one byte flipped (checksum fails)
    double wrong_address = 0;     // fraction of answers sent from another address
    std::optional<int> delay_ms;  // this meter's answer delay, instead of the bus's
    friend bool operator==(const FaultSpec&, const FaultSpec&) = default;
};

// One `--fault` argument: the meter (its id, address, Modbus unit, or * for every meter)
// and what it does.
struct FaultRule {
    std::string meter;
    std::string kind;  // dead, drop, corrupt, wrong-address, delay
    double value = 0;
};

// "E-0001:drop=0.25", "000000000009:dead", "3:delay=400", "*:corrupt=0.1".
Expected<FaultRule> parse_fault(std::string_view text);
// Sets the rule's fault on `spec` (later rules win).
void apply(const FaultRule& rule, FaultSpec& spec);

// What happens to one answer.
struct Fate {
    bool drop = false;
    bool corrupt = false;
    bool wrong_address = false;
};

// A meter's own dice: seeded from the run's seed and the meter's place on the bus, so
// one meter's fates do not depend on how often the others are asked.
class FaultDice {
  public:
    FaultDice(std::uint64_t seed, std::size_t meter_index);
    Fate roll(const FaultSpec& spec);
    std::size_t pick(std::size_t n);  // 0..n-1; n > 0

  private:
    bool chance(double p);
    std::mt19937_64 rng_;
};

enum class WireFormat { Dlt645, Cjt188, ModbusRtu };

// Flips one byte of the frame at `frame[start..]` (after any wake-up bytes) so that its
// checksum (or CRC) fails while its structure (start bytes, length, end byte) holds: the
// receiver sees a whole frame and counts a checksum error, not a timeout. `pick` chooses
// among the eligible bytes (any number; taken modulo their count).
void corrupt_frame(dlt645::Bytes& bytes, std::size_t start, WireFormat format, std::size_t pick);
// Rewrites the frame at `bytes[start..]` as if another meter sent it: the address's lowest
// two digits + 1 (DL/T 645, CJ/T 188) or the next unit id (Modbus), checksum recomputed.
void readdress_frame(dlt645::Bytes& bytes, std::size_t start, WireFormat format);

}  // namespace ecmgw::sim
