// RUN: tiers-opt %s --split-input-file --verify-diagnostics | filecheck %s

// Key arrays and their data must agree: shape, then the implementation's key shape, of ui32.

func.func @shape(%k: tensor<3x!lax.key<"threefry2x32">>) -> tensor<3x4xui32> {
  %0 = lax.random_unwrap %k : tensor<3x!lax.key<"threefry2x32">> -> tensor<3x4xui32>
  func.return %0 : tensor<3x4xui32>
}
// CHECK: keys_invalid.mlir:6:3: error: 'lax.random_unwrap': keys tensor<3x!lax.key<"threefry2x32">> have data of shape [3, 2], got tensor<3x4xui32>

// -----

func.func @dtype(%d: tensor<2xi32>) -> tensor<!lax.key<"threefry2x32">> {
  %0 = lax.random_wrap %d : tensor<2xi32> -> tensor<!lax.key<"threefry2x32">>
  func.return %0 : tensor<!lax.key<"threefry2x32">>
}
// CHECK: keys_invalid.mlir:14:3: error: 'lax.random_wrap': the operand must be key data of ui32, got tensor<2xi32>

// -----

func.func @not_keys(%d: tensor<2xui32>) -> tensor<2xui32> {
  %0 = lax.random_unwrap %d : tensor<2xui32> -> tensor<2xui32>
  func.return %0 : tensor<2xui32>
}
// CHECK: keys_invalid.mlir:22:3: error: 'lax.random_unwrap': the operand must be a tensor of !lax.key, got tensor<2xui32>

// A key type names an implementation JAX registers: keys_parse_errors.mlir.
