// Line tokenisers of the pattern detector, after Loki's pattern ingester (pkg/pattern/drain):
// a stream's format is guessed from its first line (DetectLogFormat) and fixes how every
// line of that stream is split into the tokens Drain clusters, and how a cluster's tokens
// are joined back into the pattern text.
//
//  - kUnknown (plain text): split at spaces, '=' and ASCII punctuation other than _ - . : /
//    (a space is dropped and remembered as "spaces after token i"; other delimiters become
//    one-byte tokens), at most 127 tokens (the rest of the line is the last token).
//  - kLogfmt: key and value tokens from Loki's logfmt decoder; the values of ts, t, time,
//    timestamp and traceID are replaced by the placeholder. Joined with go-logfmt's quoting.
//  - kJson: the first string field among `json_fields` (Loki's default: log, message, msg,
//    msg_, _msg, content), raw (not unescaped), tokenised as plain text; the pattern is
//    "<_>" + text + "<_>". Lines without such a field are skipped.
//
// Runes outside ASCII are never delimiters here (Go's unicode.IsPunct knows a few more).
// Not thread-safe (a tokenizer is owned by one Drain).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace skald::pattern {

inline constexpr std::string_view kPlaceholder = "<_>";

enum class LineFormat { kUnknown, kLogfmt, kJson };
std::string_view LineFormatName(LineFormat f);  // "unknown", "logfmt", "json"

// Loki's DetectLogFormat: "{...}" is JSON; a line that is only `key=value` pairs (Loki's
// logfmt regex) is logfmt; anything else (or shorter than 2 bytes) is unknown.
LineFormat DetectLogFormat(std::string_view line);

// Why a line was not tokenised (Loki's lines_skipped reasons); kNone when it was.
enum class SkipReason { kNone, kLineTooLong, kParseError };

class Tokenizer {
 public:
  Tokenizer(LineFormat format, int max_line_length, std::vector<std::string> json_fields);

  // Splits line into *tokens (views into line, or kPlaceholder) and *spaces (indexes of the
  // tokens followed by a space; plain text and JSON only). False when the line is skipped.
  bool Tokenize(std::string_view line, std::vector<std::string_view>* tokens,
                std::vector<int>* spaces, SkipReason* why) const;
  // The pattern text of a cluster's tokens, runs of placeholders collapsed to one.
  std::string Join(const std::vector<std::string>& tokens, const std::vector<int>& spaces) const;

  LineFormat format() const { return format_; }

 private:
  LineFormat format_;
  int max_line_length_;
  std::vector<std::string> json_fields_;
  mutable std::deque<std::string> unquoted_;  // logfmt values with escapes, per Tokenize
};

// Plain-text tokenisation (Loki's punctuation tokenizer) without the length check.
void TokenizePunctuation(std::string_view line, std::vector<std::string_view>* tokens,
                         std::vector<int>* spaces);
// Loki's deduplicatePlaceholders: "<_><_><_>" becomes "<_>".
std::string DeduplicatePlaceholders(std::string line);
// The value of the first top-level string field named in fields, raw (escapes kept); false
// when there is none or the line is not a JSON object.
bool FindJsonStringField(std::string_view line, const std::vector<std::string>& fields,
                         std::string_view* value);

}  // namespace skald::pattern
