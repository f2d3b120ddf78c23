// The scan's progress for a person watching: a bar with the time left, redrawn
// in place when stderr is a terminal; otherwise (a log, a pipe) only one line
// per meter found, so nothing fills a file with carriage returns.
#pragma once

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

namespace ecmgw::cli {

class Progress {
  public:
    // `what` names the steps: "units", "addresses". `out` nullptr: silent (a scan
    // the daemon runs for a client, who gets the meters found in its answer).
    Progress(std::string what, std::size_t total, std::FILE* out = stderr);
    ~Progress();
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    void add_to_total(std::size_t more) { total_ += more; }
    // One step done.
    void step();
    // A meter found: `line` is printed above the bar (or alone without a terminal).
    void found(const std::string& line);
    // Clears the bar (the summary follows on stdout).
    void finish();

    // "[#####.....] 123/247 units, 2 found, 12 s left"; without `left` (nothing
    // done yet, so no pace to go by) the time is left out.
    static std::string bar(std::size_t done, std::size_t total, std::size_t found,
                           const std::string& what, std::optional<std::chrono::seconds> left);

  private:
    void draw();
    void clear();

    std::string what_;
    std::size_t total_;
    std::size_t done_ = 0;
    std::size_t found_ = 0;
    std::FILE* out_;
    bool tty_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace ecmgw::cli
