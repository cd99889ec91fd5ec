#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace evolveai::testing {

/// One recorded HTTP exchange of a VCR cassette (the pydantic-ai fixtures).
struct CassetteExchange {
  std::string method;
  std::string uri;
  boost::json::value request_body;  ///< `parsed_body` of the request
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  ///< response headers, names lower-cased
  /// The response body: `body.string` byte for byte when recorded so, otherwise
  /// `parsed_body` serialised as JSON (the cassette kept no bytes then).
  std::string body;
  bool exact_body = false;

  /// The first value of a response header (name in lower case), or "".
  [[nodiscard]] std::string header(std::string_view lower_name) const;
};

/// Reads the exchanges of a cassette.
std::vector<CassetteExchange> load_cassette(std::string_view yaml);

/// Parses the block-style YAML subset cassettes use (mappings, sequences, plain and
/// quoted scalars, `|` literal blocks with chomping) into JSON. Throws std::runtime_error
/// on anything else.
boost::json::value parse_simple_yaml(std::string_view yaml);

}  // namespace evolveai::testing
