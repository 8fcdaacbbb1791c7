#include "common/errors.h"

#include <c10/util/Exception.h>

#include <iostream>

namespace looplab::host {

std::string error_text(const std::exception& e) {
  if (const auto* c10 = dynamic_cast<const c10::Error*>(&e)) return c10->what_without_backtrace();
  return e.what();
}

void print_error(const std::string& message) { print_error(std::cerr, message); }

void print_error(std::ostream& out, const std::string& message) { out << "looplab: error: " << message << "\n"; }

}  // namespace looplab::host
