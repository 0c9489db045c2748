// RUN: tiers-opt %s --split-input-file --parsing-diagnostics | filecheck %s

// Mistakes in the shared custom syntax (dialects/syntax.py) are parse errors at the right
// place, never crashes.

func.func @unknown_property(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = lax.exp %x tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
// CHECK:      syntax-errors.mlir:7:19
// CHECK:      'lax.exp' has no property 'tensor' (it has: none); the types follow a ':'

// -----

func.func @twice(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %0 = lax.reduce_sum %x axes [1] axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
// CHECK:      syntax-errors.mlir:16:35
// CHECK:      property 'axes' is given twice

// -----

func.func @operands(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %0 = lax.reduce_sum %x, %x axes [1] : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
// CHECK:      syntax-errors.mlir:25:23
// CHECK:      'lax.reduce_sum' takes 1 operand, got 2

// -----

func.func @results(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %0 = lax.reduce_sum %x axes [1] : tensor<4x8xf32> -> (tensor<4xf32>, tensor<4xf32>)
  func.return %0 : tensor<4xf32>
}
// CHECK:      syntax-errors.mlir:34:37
// CHECK:      'lax.reduce_sum' takes 1 result, got 2

// -----

func.func @type_count(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = lax.add %x, %x : tensor<4xf32> -> tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
// CHECK:      syntax-errors.mlir:43:25
// CHECK:      1 operand types for 2 operands

// -----

func.func @typed_number(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = lax.integer_pow %x y 1.5 : i64 : tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
// CHECK:      syntax-errors.mlir:52:35
// CHECK:      1.5 is not a valid i64 value
