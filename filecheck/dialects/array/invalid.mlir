// RUN: tiers-opt %s --split-input-file --verify-diagnostics | filecheck %s

// Each case is one verifier of dialects/array.py, with its exact message and the line it is on.

func.func @float_only(%x: tensor<4x8xi32>) -> tensor<4x8xi32> {
  %0 = array.softmax %x axis 1 : tensor<4x8xi32>
  func.return %0 : tensor<4x8xi32>
}
// CHECK: invalid.mlir:6:3: error: 'array.softmax': expects floating-point operands, got i32

// -----

func.func @axis_range(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = array.log_softmax %x axis 2 : tensor<4x8xf32>
  func.return %0 : tensor<4x8xf32>
}
// CHECK: invalid.mlir:14:3: error: 'array.log_softmax': axis 2 out of range for rank 2

// -----

func.func @same_type(%x: tensor<4x8xf32>) -> tensor<4x8xf16> {
  %0 = array.softmax %x axis 1 : tensor<4x8xf32> -> tensor<4x8xf16>
  func.return %0 : tensor<4x8xf16>
}
// CHECK: invalid.mlir:22:3: error: 'array.softmax': result type tensor<4x8xf16> differs from operand type tensor<4x8xf32>

// -----

func.func @logsumexp_reduces(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = array.logsumexp %x axis 1 : tensor<4x8xf32>
  func.return %0 : tensor<4x8xf32>
}
// CHECK: invalid.mlir:30:3: error: 'array.logsumexp': result type tensor<4x8xf32> should be (4,) of f32

// -----

func.func @relu_bool(%x: tensor<4xi1>) -> tensor<4xi1> {
  %0 = array.relu %x : tensor<4xi1>
  func.return %0 : tensor<4xi1>
}
// CHECK: invalid.mlir:38:3: error: 'array.relu': does not accept bool operands

// -----

func.func @mean_axes(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %0 = array.mean %x axes [1, 1] : tensor<4x8xf32> -> tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
// CHECK: invalid.mlir:46:3: error: 'array.mean': axes [1, 1] must be distinct, in [0, 2) and not empty

// -----

func.func @mean_result(%x: tensor<4x8xf32>) -> tensor<8xf32> {
  %0 = array.mean %x axes [1] : tensor<4x8xf32> -> tensor<8xf32>
  func.return %0 : tensor<8xf32>
}
// CHECK: invalid.mlir:54:3: error: 'array.mean': result type tensor<8xf32> should be (4,) of f32

// -----

func.func @var_ddof(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %0 = array.var %x axes [1] ddof -1 : tensor<4x8xf32> -> tensor<4xf32>
  func.return %0 : tensor<4xf32>
}
// CHECK: invalid.mlir:62:3: error: 'array.var': ddof must be non-negative, got -1

// -----

func.func @norm_params(%x: tensor<4x8xf32>, %g: tensor<4xf32>) -> tensor<4x8xf32> {
  %0 = array.layer_norm %x, %g axis 1 epsilon 1.0e-05 : f64 : (tensor<4x8xf32>, tensor<4xf32>) -> tensor<4x8xf32>
  func.return %0 : tensor<4x8xf32>
}
// CHECK: invalid.mlir:70:3: error: 'array.layer_norm': scale and bias must be tensor<8xf32>, got tensor<4xf32>

// -----

func.func @norm_param_count(%x: tensor<4x8xf32>, %g: tensor<8xf32>) -> tensor<4x8xf32> {
  %0 = array.layer_norm %x, %g, %g, %g axis 1 epsilon 1.0e-05 : f64 : (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  func.return %0 : tensor<4x8xf32>
}
// CHECK: invalid.mlir:78:3: error: 'array.layer_norm': takes at most 2 scale/bias operands

// -----

func.func @norm_epsilon(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = array.rms_norm %x axis 1 epsilon -1.0 : f64 : tensor<4x8xf32>
  func.return %0 : tensor<4x8xf32>
}
// CHECK: invalid.mlir:86:3: error: 'array.rms_norm': epsilon must be non-negative, got -1.0

// -----

func.func @matmul_inner(%a: tensor<4x8xf32>, %b: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %0 = array.matmul %a, %b : (tensor<4x8xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  func.return %0 : tensor<4x3xf32>
}
// CHECK: invalid.mlir:94:3: error: 'array.matmul': cannot multiply (4, 8) by (4, 3)

// -----

func.func @matmul_batch(%a: tensor<2x4x8xf32>, %b: tensor<3x8x3xf32>) -> tensor<2x4x3xf32> {
  %0 = array.matmul %a, %b : (tensor<2x4x8xf32>, tensor<3x8x3xf32>) -> tensor<2x4x3xf32>
  func.return %0 : tensor<2x4x3xf32>
}
// CHECK: invalid.mlir:102:3: error: 'array.matmul': cannot multiply (2, 4, 8) by (3, 8, 3)

// -----

func.func @matmul_result(%a: tensor<2x4x8xf32>, %b: tensor<8x3xf32>) -> tensor<4x3xf32> {
  %0 = array.matmul %a, %b : (tensor<2x4x8xf32>, tensor<8x3xf32>) -> tensor<4x3xf32>
  func.return %0 : tensor<4x3xf32>
}
// CHECK: invalid.mlir:110:3: error: 'array.matmul': result shape (4, 3) should be (2, 4, 3)

// -----

func.func @matmul_types(%a: tensor<4x8xf32>, %b: tensor<8x3xf16>) -> tensor<4x3xf32> {
  %0 = array.matmul %a, %b : (tensor<4x8xf32>, tensor<8x3xf16>) -> tensor<4x3xf32>
  func.return %0 : tensor<4x3xf32>
}
// CHECK: invalid.mlir:118:3: error: 'array.matmul': element types differ: tensor<4x8xf32>, tensor<8x3xf16> -> tensor<4x3xf32>

// -----

func.func @attention_shapes(%q: tensor<2x4x8xf32>, %k: tensor<2x6x8xf32>, %v: tensor<2x5x5xf32>) -> tensor<2x4x5xf32> {
  %0 = array.attention %q, %k, %v scale 1.0 : f64 : (tensor<2x4x8xf32>, tensor<2x6x8xf32>, tensor<2x5x5xf32>) -> tensor<2x4x5xf32>
  func.return %0 : tensor<2x4x5xf32>
}
// CHECK: invalid.mlir:126:3: error: 'array.attention': q (2, 4, 8), k (2, 6, 8) and v (2, 5, 5) do not fit (..., T, D), (..., S, D), (..., S, E)

// -----

func.func @attention_batch(%q: tensor<2x4x8xf32>, %k: tensor<3x6x8xf32>, %v: tensor<3x6x5xf32>) -> tensor<2x4x5xf32> {
  %0 = array.attention %q, %k, %v scale 1.0 : f64 : (tensor<2x4x8xf32>, tensor<3x6x8xf32>, tensor<3x6x5xf32>) -> tensor<2x4x5xf32>
  func.return %0 : tensor<2x4x5xf32>
}
// CHECK: invalid.mlir:134:3: error: 'array.attention': q, k, v need one rank >= 2 and equal batch dims, got (2, 4, 8), (3, 6, 8), (3, 6, 5)

// -----

func.func @attention_mask(%q: tensor<2x4x8xf32>, %k: tensor<2x6x8xf32>, %v: tensor<2x6x5xf32>, %m: tensor<2x4x6xf32>) -> tensor<2x4x5xf32> {
  %0 = array.attention %q, %k, %v, %m scale 1.0 : f64 : (tensor<2x4x8xf32>, tensor<2x6x8xf32>, tensor<2x6x5xf32>, tensor<2x4x6xf32>) -> tensor<2x4x5xf32>
  func.return %0 : tensor<2x4x5xf32>
}
// CHECK: invalid.mlir:142:3: error: 'array.attention': mask must be (2, 4, 6) of i1, got tensor<2x4x6xf32>
