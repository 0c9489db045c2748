// RUN: tiers-opt %s --split-input-file --parsing-diagnostics | filecheck %s

// `!lax.key<"impl">` names a PRNG implementation that JAX registers; any other name is an
// error where the type is written.

func.func @unknown(%k: tensor<!lax.key<"dice">>) -> tensor<!lax.key<"dice">> {
  func.return %k : tensor<!lax.key<"dice">>
}
// CHECK:      keys_parse_errors.mlir:6:31
// CHECK:      !lax.key: unknown PRNG implementation 'dice' (JAX has: {{.*}}threefry2x32{{.*}})

// -----

func.func @unquoted(%k: tensor<!lax.key<threefry2x32>>) -> tensor<!lax.key<threefry2x32>> {
  func.return %k : tensor<!lax.key<threefry2x32>>
}
// CHECK:      keys_parse_errors.mlir:14:41
// CHECK:      string literal expected
