// A simulated DL/T 645-1997 electricity meter: the older meters with two-byte data
// identifiers (function 01, answer 81, abnormal C1). Same frame and energy model as the
// 2007 meter; no relay (the standard has no control command). Pure.
#pragma once

#include <cstdint>
#include <optional>

#include "ecmgw/protocols/dlt645.hpp"
#include "sim/accrual.hpp"
#include "sim/dlt645_common.hpp"

namespace ecmgw::sim {

struct Dlt645_1997Spec {
    dlt645::Address address;
    std::int64_t initial_energy_centikwh = 0;
    std::int64_t load_w = 1000;
    bool blocks = true;  // false: 901F and 902F get the abnormal answer "wrong DI"
    std::int64_t voltage_dv = 2200;
};

class Dlt645_1997Meter {
  public:
    explicit Dlt645_1997Meter(const Dlt645_1997Spec& spec);

    void advance_to(std::int64_t now_ms);
    // The answer to `request` (addressed to this meter), or nothing for broadcasts and
    // frames from meters.
    std::optional<Answer> answer(const dlt645::Frame& request);

    const dlt645::Address& address() const { return spec_.address; }
    bool answers_blocks() const { return spec_.blocks; }
    std::int64_t energy_centikwh() const { return energy_.milli() / 10; }

  private:
    Answer answer_read(const dlt645::Frame& request) const;

    Dlt645_1997Spec spec_;
    Accrual energy_;
    std::int64_t clock_offset_ms_ = 0;
};

}  // namespace ecmgw::sim
