// RUN: tiers-opt %s --split-input-file --verify-diagnostics | filecheck %s

// Each case is one verifier of the windowed ops in dialects/lax_windows.py.

func.func @result_shape(%x: tensor<6x5xf32>) -> tensor<3x3xf32> {
  %0 = lax.reduce_window_max %x window_dimensions [2, 2] window_strides [2, 2] padding_low [0, 0] padding_high [0, 0] base_dilation [1, 1] window_dilation [1, 1] : tensor<6x5xf32> -> tensor<3x3xf32>
  func.return %0 : tensor<3x3xf32>
}
// CHECK: windows_invalid.mlir:6:3: error: 'lax.reduce_window_max': result shape (3, 3) should be (3, 2)

// -----

func.func @one_entry_per_dimension(%x: tensor<6x5xf32>) -> tensor<5x4xf32> {
  %0 = lax.reduce_window_sum %x window_dimensions [2] window_strides [1, 1] padding_low [0, 0] padding_high [0, 0] base_dilation [1, 1] window_dilation [1, 1] : tensor<6x5xf32> -> tensor<5x4xf32>
  func.return %0 : tensor<5x4xf32>
}
// CHECK: windows_invalid.mlir:14:3: error: 'lax.reduce_window_sum': window_dimensions needs one entry per operand dimension (2)

// -----

func.func @zero_stride(%x: tensor<6x5xf32>) -> tensor<5x4xf32> {
  %0 = lax.reduce_window_min %x window_dimensions [2, 2] window_strides [0, 1] padding_low [0, 0] padding_high [0, 0] base_dilation [1, 1] window_dilation [1, 1] : tensor<6x5xf32> -> tensor<5x4xf32>
  func.return %0 : tensor<5x4xf32>
}
// CHECK: windows_invalid.mlir:22:3: error: 'lax.reduce_window_min': window_strides must be at least 1, got [0, 1]

// -----

func.func @sum_of_bools(%x: tensor<6x5xi1>) -> tensor<5x4xi1> {
  %0 = lax.reduce_window_sum %x window_dimensions [2, 2] window_strides [1, 1] padding_low [0, 0] padding_high [0, 0] base_dilation [1, 1] window_dilation [1, 1] : tensor<6x5xi1> -> tensor<5x4xi1>
  func.return %0 : tensor<5x4xi1>
}
// CHECK: windows_invalid.mlir:30:3: error: 'lax.reduce_window_sum': does not accept bool operands, got i1

// -----

func.func @source_per_window(%s: tensor<3x3xf32>, %x: tensor<6x5xf32>) -> tensor<6x5xf32> {
  %0 = lax.select_and_scatter_add %s, %x select "ge" window_dimensions [2, 2] window_strides [2, 2] padding_low [0, 0] padding_high [0, 0] : (tensor<3x3xf32>, tensor<6x5xf32>) -> tensor<6x5xf32>
  func.return %0 : tensor<6x5xf32>
}
// CHECK: windows_invalid.mlir:38:3: error: 'lax.select_and_scatter_add': source must be (3, 2) of f32 (one value per window), got tensor<3x3xf32>

// -----

func.func @select(%s: tensor<3x2xf32>, %x: tensor<6x5xf32>) -> tensor<6x5xf32> {
  %0 = lax.select_and_scatter_add %s, %x select "gt" window_dimensions [2, 2] window_strides [2, 2] padding_low [0, 0] padding_high [0, 0] : (tensor<3x2xf32>, tensor<6x5xf32>) -> tensor<6x5xf32>
  func.return %0 : tensor<6x5xf32>
}
// CHECK: windows_invalid.mlir:46:3: error: 'lax.select_and_scatter_add': select must be one of 'ge', 'le', got "gt"

// -----

func.func @negative_padding(%s: tensor<2x2xf32>, %x: tensor<6x5xf32>) -> tensor<6x5xf32> {
  %0 = lax.select_and_scatter_add %s, %x select "ge" window_dimensions [2, 2] window_strides [2, 2] padding_low [-1, 0] padding_high [0, 0] : (tensor<2x2xf32>, tensor<6x5xf32>) -> tensor<6x5xf32>
  func.return %0 : tensor<6x5xf32>
}
// CHECK: windows_invalid.mlir:54:3: error: 'lax.select_and_scatter_add': padding must not be negative, got [(-1, 0), (0, 0)]

// -----

func.func @gather_of_integers(%t: tensor<6x5xi32>, %x: tensor<6x5xi32>) -> tensor<3x2xi32> {
  %0 = lax.select_and_gather_add %t, %x select "le" window_dimensions [2, 2] window_strides [2, 2] padding_low [0, 0] padding_high [0, 0] base_dilation [1, 1] window_dilation [1, 1] : (tensor<6x5xi32>, tensor<6x5xi32>) -> tensor<3x2xi32>
  func.return %0 : tensor<3x2xi32>
}
// CHECK: windows_invalid.mlir:62:3: error: 'lax.select_and_gather_add': expects floating-point operands, got i32
