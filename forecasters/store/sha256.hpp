#pragma once
// SHA-256 (FIPS 180-4) of a file or a byte string, as 64 lowercase hex digits: the model registry records
// the training data and the weights by their digest.
#include <string>

namespace autoscale::forecast {

std::string sha256_hex(const std::string& bytes);
// InputError naming the file when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace autoscale::forecast
