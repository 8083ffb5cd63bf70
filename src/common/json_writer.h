// A JSON text written straight into a string, for the hub's hot paths (a node's record, an event
// of the log): no document tree, no allocation per field. Commas between members and elements are
// placed by the writer; the caller nests Begin/End calls correctly. Invalid UTF-8 in strings (a
// task's stdout may hold any bytes) becomes U+FFFD, as the hub's other JSON output does.
// Thread-safety: one writer per thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace hubspoke {

// `text` as the body of a JSON string (without the quotes) appended to `out`.
void AppendJsonEscaped(std::string& out, std::string_view text);

class JsonWriter {
 public:
  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }

  // An object member's key; its value follows.
  JsonWriter& Key(std::string_view key);

  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Bool(bool value);
  // A value that is already JSON text, written as it is.
  JsonWriter& Raw(std::string_view json);
  // An object of string members, in the map's order.
  JsonWriter& StringMap(const std::map<std::string, std::string>& members);

  // Shorthands for a member: Key(key) then the value.
  JsonWriter& Member(std::string_view key, std::string_view value) {
    return Key(key).String(value);
  }
  JsonWriter& Member(std::string_view key, const char* value) { return Key(key).String(value); }
  JsonWriter& Member(std::string_view key, const std::string& value) {
    return Key(key).String(value);
  }
  JsonWriter& Member(std::string_view key, int64_t value) { return Key(key).Int(value); }
  JsonWriter& Member(std::string_view key, int value) { return Key(key).Int(value); }
  JsonWriter& Member(std::string_view key, bool value) { return Key(key).Bool(value); }

  const std::string& text() const { return out_; }
  // Starts a new text, keeping the capacity of the last.
  void Clear() {
    out_.clear();
    first_ = true;
    after_key_ = false;
  }
  // The text, its capacity trimmed: callers keep many (a batch of 100,000 node records), and the
  // doubling growth would otherwise leave up to half of each unused.
  std::string Take() {
    out_.shrink_to_fit();
    return std::move(out_);
  }

 private:
  JsonWriter& Open(char c);
  JsonWriter& Close(char c);
  void Separate();  // the comma before a value that is not the first of its container

  std::string out_;
  bool first_ = true;       // no value written yet in the innermost container
  bool after_key_ = false;  // a key was written: its value needs no comma
};

}  // namespace hubspoke
