// The KV conformance suite (kv_conformance.h) on the in-process MemKV.
#include "kv_conformance.h"

namespace skald::ring {
namespace {

INSTANTIATE_TEST_SUITE_P(Mem, KVConformance,
                         ::testing::Values(KVFactory{"mem",
                                                     [] { return std::make_unique<MemKV>(); }}),
                         [](const ::testing::TestParamInfo<KVFactory>& i) { return i.param.name; });

}  // namespace
}  // namespace skald::ring
