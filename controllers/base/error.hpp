#pragma once
// One exception type for every kind of bad input (scenario, trace, CLI flag): it names the file, the line and
// the field, and says what was expected. `main` turns it into a message on stderr and exit status 2.
#include <stdexcept>
#include <string>
#include <vector>

namespace autoscale {

class InputError : public std::runtime_error {
 public:
  InputError(std::string file, int line, std::string field, std::string message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  const std::string& field() const { return field_; }
  // What was expected (the message without file, line and field).
  const std::string& message() const { return message_; }

 private:
  std::string file_;
  int line_;
  std::string field_;
  std::string message_;
};

// The candidate closest to `word` by edit distance, or "" when none is close enough to be a plausible typo.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace autoscale
