// Object store interface: the one place chunks and index files are persisted.
//
// Keys are '/'-separated relative paths ("chunks/fake/0123.../..."). The same
// key rules hold for every implementation (filesystem today, S3 later), so a
// key accepted by one store is accepted by all of them: see ValidateKey().
// docs/formats/object-keys.md lists every key Skald writes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/file_system.h"
#include "core/status.h"

namespace skald::storage {

// Key segments may not start with this prefix: stores use it for their own
// temporary objects (the filesystem store's in-flight writes). It starts with
// '~', a character no tenant ID may contain (core/tenant.h), so no key built
// from a tenant ID can reach a store's internals.
inline constexpr std::string_view kReservedSegmentPrefix = "~skald-tmp-";

// OK when `key` is a valid object key; otherwise InvalidArgument naming the
// problem. Rules: non-empty; not absolute (no leading '/'); no empty segment
// ("a//b", trailing '/'); no "." or ".." segment; no NUL byte; no segment
// starting with kReservedSegmentPrefix.
Status ValidateKey(std::string_view key);

// OK when `prefix` is a valid List() prefix: "" or any string whose complete
// segments (those followed by '/') obey the ValidateKey() rules; the last,
// possibly partial, segment is free (it only filters names). No NUL byte.
Status ValidateKeyPrefix(std::string_view prefix);

// A flat namespace of immutable-once-written blobs. All methods are
// thread-safe. Errors: InvalidArgument for bad keys, NotFound (Get only),
// IOError when the backend fails.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Stores `data` under `key`, replacing any previous object. Atomic: a
  // concurrent or later Get sees either the whole old object or the whole new
  // one, never a mix or a prefix; after OK the object survives a crash.
  virtual Status Put(std::string_view key, std::string_view data) = 0;

  // Put of the concatenation of `parts`, as one object (same guarantees). Lets a caller
  // write an object assembled from pieces it already holds without building it in memory.
  // The default concatenates and calls Put; stores that can write piecewise override it.
  virtual Status PutParts(std::string_view key, std::span<const std::string_view> parts);

  // The object's bytes; NotFound if there is no object under `key`.
  virtual StatusOr<std::string> Get(std::string_view key) = 0;

  // Bytes [offset, offset + length) of the object (a ranged read: packed objects are read
  // one chunk at a time). NotFound if there is no object; Corruption if the range reaches
  // past its end. The default reads the whole object; stores that can do better override it.
  virtual StatusOr<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length);

  // GetRange, into memory the result owns (the filesystem store reads into recycled buffers,
  // RandomAccessFile::ReadShared). Same errors. The default wraps GetRange's string.
  virtual StatusOr<SharedBytes> GetRangeShared(std::string_view key, uint64_t offset,
                                               uint64_t length);

  // All keys starting with `prefix` (byte-wise, so the prefix may end in the
  // middle of a segment: "index/te" lists "index/tenant/..."), sorted
  // ascending byte-wise. Never lists in-flight temporary objects.
  virtual StatusOr<std::vector<std::string>> List(std::string_view prefix) = 0;

  // Removes the object; OK when it does not exist.
  virtual Status Delete(std::string_view key) = 0;
};

}  // namespace skald::storage
