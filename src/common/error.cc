#include "common/error.h"

namespace hubspoke {

std::string Error::ToString() const { return where.empty() ? message : where + ": " + message; }

Error InvalidArgument(std::string message, std::string where) {
  return Error{ErrorCode::kInvalidArgument, std::move(message), std::move(where)};
}
Error NotFound(std::string message, std::string where) {
  return Error{ErrorCode::kNotFound, std::move(message), std::move(where)};
}
Error IoError(std::string message, std::string where) {
  return Error{ErrorCode::kIo, std::move(message), std::move(where)};
}
Error Internal(std::string message) { return Error{ErrorCode::kInternal, std::move(message), {}}; }

}  // namespace hubspoke
