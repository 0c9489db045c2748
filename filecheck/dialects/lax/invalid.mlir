// RUN: tiers-opt %s --split-input-file --verify-diagnostics | filecheck %s

// Each case is one verifier of dialects/lax.py, with its exact message and the line it is on.

func.func @elementwise_shapes(%x: tensor<4xf32>, %y: tensor<3xf32>) -> tensor<4xf32> {
  %0 = lax.add %x, %y : (tensor<4xf32>, tensor<3xf32>) -> tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
// CHECK: invalid.mlir:6:3: error: 'lax.add': operand shape (3,) differs from result shape (4,)
// CHECK-NEXT: %0 = lax.add %x, %y : (tensor<4xf32>, tensor<3xf32>) -> tensor<4xf32>

// -----

func.func @elementwise_kinds(%x: tensor<4xi32>) -> tensor<4xi32> {
  %0 = lax.exp %x : tensor<4xi32>
  func.return %0 : tensor<4xi32>
}
// CHECK: invalid.mlir:15:3: error: 'lax.exp': expects floating-point or complex operands, got i32

// -----

func.func @broadcast_dims_count(%x: tensor<4xf32>) -> tensor<2x4xf32> {
  %0 = lax.broadcast_in_dim %x dims [0, 1] : tensor<4xf32> -> tensor<2x4xf32>
  func.return %0 : tensor<2x4xf32>
}
// CHECK: invalid.mlir:23:3: error: 'lax.broadcast_in_dim': dims [0, 1] must have one entry per operand dimension (1)

// -----

func.func @broadcast_dims_size(%x: tensor<4xf32>) -> tensor<4x2xf32> {
  %0 = lax.broadcast_in_dim %x dims [1] : tensor<4xf32> -> tensor<4x2xf32>
  func.return %0 : tensor<4x2xf32>
}
// CHECK: invalid.mlir:31:3: error: 'lax.broadcast_in_dim': operand dimension 0 of size 4 cannot broadcast to 2

// -----

func.func @broadcast_dims_range(%x: tensor<4xf32>) -> tensor<2x4xf32> {
  %0 = lax.broadcast_in_dim %x dims [2] : tensor<4xf32> -> tensor<2x4xf32>
  func.return %0 : tensor<2x4xf32>
}
// CHECK: invalid.mlir:39:3: error: 'lax.broadcast_in_dim': dims [2] must be distinct and in [0, 2)

// -----

func.func @reduce_axes(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %0 = lax.reduce_sum %x axes [2] : tensor<4x8xf32> -> tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
// CHECK: invalid.mlir:47:3: error: 'lax.reduce_sum': axes [2] must be distinct and in [0, 2)

// -----

func.func @reduce_result(%x: tensor<4x8xf32>) -> tensor<8xf32> {
  %0 = lax.reduce_max %x axes [1] : tensor<4x8xf32> -> tensor<8xf32>
  func.return %0 : tensor<8xf32>
}
// CHECK: invalid.mlir:55:3: error: 'lax.reduce_max': result shape (8,) should be (4,)

// -----

func.func @dot_contracting(%x: tensor<4x8xf32>, %y: tensor<6x16xf32>) -> tensor<4x16xf32> {
  %0 = lax.dot_general %x, %y lhs_contracting [1] rhs_contracting [0] lhs_batch [] rhs_batch [] : (tensor<4x8xf32>, tensor<6x16xf32>) -> tensor<4x16xf32>
  func.return %0 : tensor<4x16xf32>
}
// CHECK: invalid.mlir:63:3: error: 'lax.dot_general': lhs dimension 1 (size 8) does not match rhs dimension 0 (size 6)

// -----

func.func @dot_result(%x: tensor<4x8xf32>, %y: tensor<8x16xf32>) -> tensor<16x4xf32> {
  %0 = lax.dot_general %x, %y lhs_contracting [1] rhs_contracting [0] lhs_batch [] rhs_batch [] : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<16x4xf32>
  func.return %0 : tensor<16x4xf32>
}
// CHECK: invalid.mlir:71:3: error: 'lax.dot_general': result shape (16, 4) should be (4, 16)

// -----

func.func @select_case_types(%p: tensor<4xi1>, %x: tensor<4xf32>, %y: tensor<4xi32>) -> tensor<4xf32> {
  %0 = lax.select_n %p, %x, %y : (tensor<4xi1>, tensor<4xf32>, tensor<4xi32>) -> tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
// CHECK: invalid.mlir:79:3: error: 'lax.select_n': case type tensor<4xi32> differs from result type tensor<4xf32>

// -----

func.func @select_bool_cases(%p: tensor<4xi1>, %x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = lax.select_n %p, %x, %x, %x : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
// CHECK: invalid.mlir:87:3: error: 'lax.select_n': a bool predicate selects between at most two cases

// -----

func.func @concatenate_sizes(%x: tensor<4x3xf32>, %y: tensor<4x5xf32>) -> tensor<4x9xf32> {
  %0 = lax.concatenate %x, %y dimension 1 : (tensor<4x3xf32>, tensor<4x5xf32>) -> tensor<4x9xf32>
  func.return %0 : tensor<4x9xf32>
}
// CHECK: invalid.mlir:95:3: error: 'lax.concatenate': operand sizes along dimension 1 add up to 8, not 9

// -----

func.func @concatenate_other_dims(%x: tensor<4x3xf32>, %y: tensor<2x5xf32>) -> tensor<4x8xf32> {
  %0 = lax.concatenate %x, %y dimension 1 : (tensor<4x3xf32>, tensor<2x5xf32>) -> tensor<4x8xf32>
  func.return %0 : tensor<4x8xf32>
}
// CHECK: invalid.mlir:103:3: error: 'lax.concatenate': operand shape (2, 5) does not match (4, 8) outside dimension 1

// -----

func.func @missing_property(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %0 = lax.reduce_sum %x : tensor<4x8xf32> -> tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
// CHECK: invalid.mlir:111:3: error: property 'axes' expected in operation 'lax.reduce_sum'
