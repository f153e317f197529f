// Test hooks of the pipeline (pipeline.cc): the same pipelines compiled without label hints,
// the oracle hinted results are compared against. Not a public API.
#pragma once

#include <memory>

#include "core/status.h"
#include "logql/ast.h"
#include "logql/pipeline.h"

namespace skald::logql::internal {

// Pipeline::Compile without lazy parsing: every parser extracts every label.
StatusOr<std::shared_ptr<const Pipeline>> CompilePipelineWithoutHints(const LogSelector& selector);
// SampleExtractor::Compile without any label hints.
StatusOr<std::shared_ptr<const SampleExtractor>> CompileExtractorWithoutHints(
    const RangeAggregationExpr& expr);

}  // namespace skald::logql::internal
