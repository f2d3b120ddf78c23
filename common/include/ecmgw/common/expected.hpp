// A value or an error, returned across module lines instead of exceptions
// (the Mender client's expected<T, Error>; std::expected is C++23).
#pragma once

#include <cassert>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace ecmgw {

// A failure that a person can read: what went wrong, in words.
struct Error {
    std::string message;
};

template <class E>
struct Unexpected {
    E error;
};

template <class E>
Unexpected<std::decay_t<E>> unexpected(E&& e) {
    return {std::forward<E>(e)};
}

inline Unexpected<Error> fail(std::string message) { return {Error{std::move(message)}}; }

template <class T, class E = Error>
class [[nodiscard]] Expected {
  public:
    Expected(const T& v) : v_(std::in_place_index<0>, v) {}
    Expected(T&& v) : v_(std::in_place_index<0>, std::move(v)) {}
    template <class G, class = std::enable_if_t<std::is_constructible_v<E, G>>>
    Expected(Unexpected<G> u) : v_(std::in_place_index<1>, E(std::move(u.error))) {}

    bool has_value() const { return v_.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T& value() & {
        assert(has_value());
        return std::get<0>(v_);
    }
    const T& value() const& {
        assert(has_value());
        return std::get<0>(v_);
    }
    T&& value() && {
        assert(has_value());
        return std::get<0>(std::move(v_));
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    E& error() & {
        assert(!has_value());
        return std::get<1>(v_);
    }
    const E& error() const& {
        assert(!has_value());
        return std::get<1>(v_);
    }

  private:
    std::variant<T, E> v_;
};

template <class E>
class [[nodiscard]] Expected<void, E> {
  public:
    Expected() = default;
    template <class G, class = std::enable_if_t<std::is_constructible_v<E, G>>>
    Expected(Unexpected<G> u) : error_(E(std::move(u.error))), ok_(false) {}

    bool has_value() const { return ok_; }
    explicit operator bool() const { return ok_; }
    E& error() & {
        assert(!ok_);
        return error_;
    }
    const E& error() const& {
        assert(!ok_);
        return error_;
    }

  private:
    E error_{};
    bool ok_ = true;
};

using Result = Expected<void>;

}  // namespace ecmgw
