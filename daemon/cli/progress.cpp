#include "cli/progress.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>

namespace ecmgw::cli {

namespace {

constexpr std::size_t kBarWidth = 20;

}  // namespace

Progress::Progress(std::string what, std::size_t total, std::FILE* out)
    : what_(std::move(what)),
      total_(total),
      out_(out),
      tty_(out != nullptr && isatty(fileno(out)) == 1) {
    draw();
}

Progress::~Progress() { finish(); }

std::string Progress::bar(std::size_t done, std::size_t total, std::size_t found,
                          const std::string& what, std::optional<std::chrono::seconds> left) {
    const std::size_t filled =
        total == 0 ? kBarWidth : std::min(kBarWidth, done * kBarWidth / total);
    std::string out = fmt::format("[{}{}] {}/{} {}, {} found", std::string(filled, '#'),
                                  std::string(kBarWidth - filled, '.'), done, total, what, found);
    if (left) out += fmt::format(", {} s left", left->count());
    return out;
}

void Progress::step() {
    ++done_;
    draw();
}

void Progress::found(const std::string& line) {
    ++found_;
    if (out_ == nullptr) return;
    clear();
    fmt::print(out_, "{}\n", line);
    draw();
}

void Progress::finish() { clear(); }

// Time left from the pace so far: every step of a sweep costs about the same
// (mostly one response timeout).
void Progress::draw() {
    if (!tty_) return;
    std::optional<std::chrono::seconds> left;
    if (done_ > 0) {
        const auto elapsed = std::chrono::steady_clock::now() - start_;
        const std::size_t remaining = total_ > done_ ? total_ - done_ : 0;
        left = std::chrono::duration_cast<std::chrono::seconds>(
            elapsed * static_cast<double>(remaining) / static_cast<double>(done_));
    }
    fmt::print(out_, "\r{}\x1b[K", bar(done_, total_, found_, what_, left));
    std::fflush(out_);
    drawn_ = true;
}

void Progress::clear() {
    if (!drawn_) return;
    fmt::print(out_, "\r\x1b[K");
    std::fflush(out_);
    drawn_ = false;
}

}  // namespace ecmgw::cli
