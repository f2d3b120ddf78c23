// Columns aligned for a terminal: the human side of the daemon commands.
#pragma once

#include <string>
#include <vector>

namespace ecmgw::cli {

class Table {
  public:
    explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    // Every column as wide as its widest cell (counted in code points), two spaces apart.
    std::string render() const;

  private:
    std::vector<std::vector<std::string>> rows_;
};

// "3 s", "4 min", "5 h", "2 d": how long ago, coarsely.
std::string age_text(long long seconds);
// "26.00", "-1.05": fen as yuan.
std::string yuan(long long fen);

}  // namespace ecmgw::cli
