// RUN: tiers-opt %s | filecheck %s
// RUN: tiers-opt %s | tiers-opt | filecheck %s
// RUN: tiers-opt %s --print-op-generic | tiers-opt | filecheck %s
// RUN: tiers-opt %s --print-op-generic | filecheck %s --check-prefix=GENERIC

// The windowed ops of dialects/lax_windows.py: max pooling (3x3 windows, stride 2, padded
// like "SAME"), its gradient and its tangent, and a dilated sum.

// CHECK-LABEL: func.func @max_pool
func.func @max_pool(%x: tensor<2x7x6xf32>, %ct: tensor<2x4x3xf32>) -> (tensor<2x4x3xf32>, tensor<2x7x6xf32>, tensor<2x4x3xf32>) {
  // CHECK-NEXT: %0 = lax.reduce_window_max %x base_dilation [1, 1, 1] window_dilation [1, 1, 1] window_dimensions [1, 3, 3] window_strides [1, 2, 2] padding_low [0, 1, 0] padding_high [0, 1, 1] : tensor<2x7x6xf32> -> tensor<2x4x3xf32>
  %0 = lax.reduce_window_max %x window_dimensions [1, 3, 3] window_strides [1, 2, 2] padding_low [0, 1, 0] padding_high [0, 1, 1] base_dilation [1, 1, 1] window_dilation [1, 1, 1] : tensor<2x7x6xf32> -> tensor<2x4x3xf32>
  // CHECK-NEXT: %1 = lax.select_and_scatter_add %ct, %x select "ge" window_dimensions [1, 3, 3] window_strides [1, 2, 2] padding_low [0, 1, 0] padding_high [0, 1, 1] : (tensor<2x4x3xf32>, tensor<2x7x6xf32>) -> tensor<2x7x6xf32>
  %1 = lax.select_and_scatter_add %ct, %x select "ge" window_dimensions [1, 3, 3] window_strides [1, 2, 2] padding_low [0, 1, 0] padding_high [0, 1, 1] : (tensor<2x4x3xf32>, tensor<2x7x6xf32>) -> tensor<2x7x6xf32>
  // CHECK-NEXT: %2 = lax.select_and_gather_add %x, %x select "ge" base_dilation [1, 1, 1] window_dilation [1, 1, 1] window_dimensions [1, 3, 3] window_strides [1, 2, 2] padding_low [0, 1, 0] padding_high [0, 1, 1] : (tensor<2x7x6xf32>, tensor<2x7x6xf32>) -> tensor<2x4x3xf32>
  %2 = lax.select_and_gather_add %x, %x select "ge" base_dilation [1, 1, 1] window_dilation [1, 1, 1] window_dimensions [1, 3, 3] window_strides [1, 2, 2] padding_low [0, 1, 0] padding_high [0, 1, 1] : (tensor<2x7x6xf32>, tensor<2x7x6xf32>) -> tensor<2x4x3xf32>
  func.return %0, %1, %2 : tensor<2x4x3xf32>, tensor<2x7x6xf32>, tensor<2x4x3xf32>
}

// A 2x2 window dilated by 2 over an operand dilated by 2 (holes between its elements):
// 2*(5-1)+1 = 9 rows padded to 10, windows span 3, so (10 - 3) / 1 + 1 = 8 positions.
// CHECK-LABEL: func.func @dilated_sum
func.func @dilated_sum(%x: tensor<5x4xi32>) -> tensor<8x2xi32> {
  // CHECK-NEXT: %0 = lax.reduce_window_sum %x base_dilation [2, 1] window_dilation [2, 1] window_dimensions [2, 2] window_strides [1, 2] padding_low [1, 0] padding_high [0, 0] : tensor<5x4xi32> -> tensor<8x2xi32>
  %0 = lax.reduce_window_sum %x base_dilation [2, 1] window_dilation [2, 1] window_dimensions [2, 2] window_strides [1, 2] padding_low [1, 0] padding_high [0, 0] : tensor<5x4xi32> -> tensor<8x2xi32>
  func.return %0 : tensor<8x2xi32>
}

// GENERIC: "lax.select_and_scatter_add"(%ct, %x) <{select = "ge", window_dimensions = array<i64: 1, 3, 3>, window_strides = array<i64: 1, 2, 2>, padding_low = array<i64: 0, 1, 0>, padding_high = array<i64: 0, 1, 1>}>
