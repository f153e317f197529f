// The values a LogQL metric query produces (Prometheus' data model): a matrix of series
// for range queries, a vector of samples for instant queries, a scalar for queries without
// a selector evaluated at an instant. Plain values; wire/query_response.h encodes them.
#pragma once

#include <cstdint>
#include <vector>

#include "core/labels.h"

namespace skald::logql {

struct Point {
  int64_t ts_nanos = 0;
  double value = 0;
  friend bool operator==(const Point&, const Point&) = default;
};

// One series of a matrix: points in ascending time, one per step at most.
struct SeriesValue {
  Labels labels;
  std::vector<Point> points;
};

// One sample of an instant vector.
struct SampleValue {
  Labels labels;
  Point point;
};

struct QueryValue {
  enum class Type { kMatrix, kVector, kScalar };
  Type type = Type::kVector;
  // Order is Prometheus' labels.Compare (name, then value, pair by pair; a prefix first),
  // which is what Loki's engine sorts by — not the canonical string's byte order.
  std::vector<SeriesValue> matrix;  // kMatrix: series in label order
  std::vector<SampleValue> vector;  // kVector: in label order, or by value when the
                                    // query's root is sort()/sort_desc() (topk/bottomk
                                    // results are in label order too, as in Loki)
  Point scalar;                     // kScalar
};

}  // namespace skald::logql
