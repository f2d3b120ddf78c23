// The usual visitor helper: one lambda per alternative of a std::variant.
#pragma once

namespace ecmgw {

template <class... F>
struct Overloaded : F... {
    using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

}  // namespace ecmgw
