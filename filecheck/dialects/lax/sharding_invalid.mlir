// RUN: tiers-opt %s --split-input-file --verify-diagnostics | filecheck %s

func.func @unknown_axis(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = lax.sharding_constraint spec [["z"]] %x mesh {axes = ["x"], shape = array<i64: 2>} : tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
// CHECK: sharding_invalid.mlir:4:3: error: 'lax.sharding_constraint': partition spec [["z"]] names axes ['z'] not in mesh ['x']

// -----

func.func @too_long(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = lax.sharding_constraint spec [["x"], []] %x mesh {axes = ["x"], shape = array<i64: 2>} : tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
// CHECK: sharding_invalid.mlir:12:3: error: 'lax.sharding_constraint': partition spec [["x"], []] has 2 entries for a value of rank 1

// -----

func.func @bad_mesh(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = lax.sharding_constraint spec [["x"]] %x mesh {axes = ["x", "y"], shape = array<i64: 2>} : tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
// CHECK: sharding_invalid.mlir:20:3: error: 'lax.sharding_constraint': mesh axes ['x', 'y'] and shape [2] do not match
