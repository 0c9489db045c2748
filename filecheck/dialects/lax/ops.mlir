// RUN: tiers-opt %s | filecheck %s
// RUN: tiers-opt %s | tiers-opt | filecheck %s
// RUN: tiers-opt %s --print-op-generic | filecheck %s --check-prefix=GENERIC
// RUN: tiers-opt %s --print-op-generic | tiers-opt | filecheck %s
// RUN: tiers-opt %s --print-debuginfo | filecheck %s --check-prefix=LOC

// One op of every family in dialects/lax.py, in the custom form `lax.NAME operands props : types`.

// CHECK-LABEL: func.func @elementwise
func.func @elementwise(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>, %i: tensor<4x8xi32>) -> (tensor<4x8xf32>, tensor<4x8xi1>, tensor<4x8xi32>) {
  // CHECK-NEXT: %0 = lax.exp %x : tensor<4x8xf32>
  %0 = lax.exp %x : tensor<4x8xf32>
  // CHECK-NEXT: %1 = lax.add %0, %y : tensor<4x8xf32>
  %1 = lax.add %0, %y : tensor<4x8xf32>
  // CHECK-NEXT: %2 = lax.gt %1, %y : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xi1>
  %2 = lax.gt %1, %y : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xi1>
  // CHECK-NEXT: %3 = lax.integer_pow %1 y 3 : tensor<4x8xf32>
  %3 = lax.integer_pow %1 y 3 : tensor<4x8xf32>
  // CHECK-NEXT: %4 = lax.reduce_precision %3 exponent_bits 5 mantissa_bits 10 : tensor<4x8xf32>
  %4 = lax.reduce_precision %3 exponent_bits 5 mantissa_bits 10 : tensor<4x8xf32>
  // CHECK-NEXT: %5 = lax.shift_left %i, %i : tensor<4x8xi32>
  %5 = lax.shift_left %i, %i : tensor<4x8xi32>
  // CHECK-NEXT: %6 = lax.is_finite %4 : tensor<4x8xf32> -> tensor<4x8xi1>
  %6 = lax.is_finite %4 : tensor<4x8xf32> -> tensor<4x8xi1>
  // CHECK-NEXT: %7 = lax.and %2, %6 : tensor<4x8xi1>
  %7 = lax.and %2, %6 : tensor<4x8xi1>
  func.return %4, %7, %5 : tensor<4x8xf32>, tensor<4x8xi1>, tensor<4x8xi32>
}

// CHECK-LABEL: func.func @conversions_and_selection
func.func @conversions_and_selection(%x: tensor<4x8xf32>, %p: tensor<4x8xi1>, %k: tensor<i32>) -> (tensor<4x8xi32>, tensor<4x8xf32>) {
  // CHECK-NEXT: %0 = lax.convert_element_type %x : tensor<4x8xf32> -> tensor<4x8xi32>
  %0 = lax.convert_element_type %x : tensor<4x8xf32> -> tensor<4x8xi32>
  // CHECK-NEXT: %1 = lax.bitcast_convert_type %x : tensor<4x8xf32> -> tensor<4x8xi32>
  %1 = lax.bitcast_convert_type %x : tensor<4x8xf32> -> tensor<4x8xi32>
  // CHECK-NEXT: %2 = lax.add %0, %1 : tensor<4x8xi32>
  %2 = lax.add %0, %1 : tensor<4x8xi32>
  // CHECK-NEXT: %3 = lax.neg %x : tensor<4x8xf32>
  %3 = lax.neg %x : tensor<4x8xf32>
  // CHECK-NEXT: %4 = lax.select_n %p, %x, %3 : (tensor<4x8xi1>, tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %4 = lax.select_n %p, %x, %3 : (tensor<4x8xi1>, tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK-NEXT: %5 = lax.select_n %k, %x, %3, %4 : (tensor<i32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %5 = lax.select_n %k, %x, %3, %4 : (tensor<i32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK-NEXT: %6 = lax.constant dense<0.000000e+00> : tensor<f32>
  %6 = lax.constant dense<0.0> : tensor<f32>
  // CHECK-NEXT: %7 = lax.constant dense<1.000000e+00> : tensor<f32>
  %7 = lax.constant dense<1.0> : tensor<f32>
  // CHECK-NEXT: %8 = lax.clamp %6, %5, %7 : (tensor<f32>, tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %8 = lax.clamp %6, %5, %7 : (tensor<f32>, tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  func.return %2, %8 : tensor<4x8xi32>, tensor<4x8xf32>
}

// CHECK-LABEL: func.func @constants
func.func @constants() -> (tensor<2x3xf32>, tensor<3xi32>, tensor<4x8xi32>) {
  // CHECK-NEXT: %0 = lax.constant dense<{{\[}}[1.000000e+00, 2.000000e+00, 3.000000e+00], [4.000000e+00, 5.000000e+00, 6.000000e+00]]> : tensor<2x3xf32>
  %0 = lax.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  // CHECK-NEXT: %1 = lax.constant dense<[7, -8, 9]> : tensor<3xi32>
  %1 = lax.constant dense<[7, -8, 9]> : tensor<3xi32>
  // CHECK-NEXT: %2 = lax.iota dimension 1 : () -> tensor<4x8xi32>
  %2 = lax.iota dimension 1 : () -> tensor<4x8xi32>
  func.return %0, %1, %2 : tensor<2x3xf32>, tensor<3xi32>, tensor<4x8xi32>
}

// CHECK-LABEL: func.func @shapes
func.func @shapes(%x: tensor<4x8xf32>, %s: tensor<f32>) -> (tensor<2x4x8xf32>, tensor<4x2xf32>, tensor<8x4xf32>, tensor<7x8xf32>) {
  // CHECK-NEXT: %0 = lax.broadcast_in_dim %x dims [1, 2] : tensor<4x8xf32> -> tensor<2x4x8xf32>
  %0 = lax.broadcast_in_dim %x dims [1, 2] : tensor<4x8xf32> -> tensor<2x4x8xf32>
  // CHECK-NEXT: %1 = lax.reshape %x : tensor<4x8xf32> -> tensor<32xf32>
  %1 = lax.reshape %x : tensor<4x8xf32> -> tensor<32xf32>
  // CHECK-NEXT: %2 = lax.reshape %1 : tensor<32xf32> -> tensor<1x4x8xf32>
  %2 = lax.reshape %1 : tensor<32xf32> -> tensor<1x4x8xf32>
  // CHECK-NEXT: %3 = lax.squeeze %2 dimensions [0] : tensor<1x4x8xf32> -> tensor<4x8xf32>
  %3 = lax.squeeze %2 dimensions [0] : tensor<1x4x8xf32> -> tensor<4x8xf32>
  // CHECK-NEXT: %4 = lax.transpose %3 permutation [1, 0] : tensor<4x8xf32> -> tensor<8x4xf32>
  %4 = lax.transpose %3 permutation [1, 0] : tensor<4x8xf32> -> tensor<8x4xf32>
  // CHECK-NEXT: %5 = lax.rev %4 dimensions [0] : tensor<8x4xf32>
  %5 = lax.rev %4 dimensions [0] : tensor<8x4xf32>
  // CHECK-NEXT: %6 = lax.slice %x start_indices [0, 1] limit_indices [4, 5] strides [1, 2] : tensor<4x8xf32> -> tensor<4x2xf32>
  %6 = lax.slice %x start_indices [0, 1] limit_indices [4, 5] strides [1, 2] : tensor<4x8xf32> -> tensor<4x2xf32>
  // CHECK-NEXT: %7 = lax.pad %x, %s low [1, 0] high [-1, 0] interior [1, 0] : (tensor<4x8xf32>, tensor<f32>) -> tensor<7x8xf32>
  %7 = lax.pad %x, %s low [1, 0] high [-1, 0] interior [1, 0] : (tensor<4x8xf32>, tensor<f32>) -> tensor<7x8xf32>
  func.return %0, %6, %5, %7 : tensor<2x4x8xf32>, tensor<4x2xf32>, tensor<8x4xf32>, tensor<7x8xf32>
}

// CHECK-LABEL: func.func @pieces
func.func @pieces(%x: tensor<4x8xf32>, %i: tensor<i32>) -> (tensor<4x8xf32>, tensor<2x8xf32>, tensor<4x8xf32>) {
  // CHECK-NEXT: %a, %b = lax.split %x sizes [3, 5] axis 1 : tensor<4x8xf32> -> (tensor<4x3xf32>, tensor<4x5xf32>)
  %a, %b = lax.split %x sizes [3, 5] axis 1 : tensor<4x8xf32> -> (tensor<4x3xf32>, tensor<4x5xf32>)
  // CHECK-NEXT: %c = lax.concatenate %b, %a dimension 1 : (tensor<4x5xf32>, tensor<4x3xf32>) -> tensor<4x8xf32>
  %c = lax.concatenate %b, %a dimension 1 : (tensor<4x5xf32>, tensor<4x3xf32>) -> tensor<4x8xf32>
  // CHECK-NEXT: %d = lax.dynamic_slice %x, %i, %i slice_sizes [2, 8] : (tensor<4x8xf32>, tensor<i32>, tensor<i32>) -> tensor<2x8xf32>
  %d = lax.dynamic_slice %x, %i, %i slice_sizes [2, 8] : (tensor<4x8xf32>, tensor<i32>, tensor<i32>) -> tensor<2x8xf32>
  // CHECK-NEXT: %e = lax.dynamic_update_slice %c, %d, %i, %i : (tensor<4x8xf32>, tensor<2x8xf32>, tensor<i32>, tensor<i32>) -> tensor<4x8xf32>
  %e = lax.dynamic_update_slice %c, %d, %i, %i : (tensor<4x8xf32>, tensor<2x8xf32>, tensor<i32>, tensor<i32>) -> tensor<4x8xf32>
  func.return %c, %d, %e : tensor<4x8xf32>, tensor<2x8xf32>, tensor<4x8xf32>
}

// CHECK-LABEL: func.func @indexing
func.func @indexing(%x: tensor<4x8xf32>, %idx: tensor<2x1xi32>, %upd: tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<4x8xf32>) {
  // Properties print in definition order, whatever order they are written in.
  // CHECK-NEXT: %0 = lax.gather %x, %idx offset_dims [1] collapsed_slice_dims [0] start_index_map [0] operand_batching_dims [] start_indices_batching_dims [] slice_sizes [1, 8] mode 3 indices_are_sorted false unique_indices false : (tensor<4x8xf32>, tensor<2x1xi32>) -> tensor<2x8xf32>
  %0 = lax.gather %x, %idx offset_dims [1] collapsed_slice_dims [0] start_index_map [0] operand_batching_dims [] start_indices_batching_dims [] mode 3 indices_are_sorted false unique_indices false slice_sizes [1, 8] : (tensor<4x8xf32>, tensor<2x1xi32>) -> tensor<2x8xf32>
  // CHECK-NEXT: %1 = lax.gather %x, %idx {{.*}} fill_value 1.500000e+00 : f32 : (tensor<4x8xf32>, tensor<2x1xi32>) -> tensor<2x8xf32>
  %1 = lax.gather %x, %idx offset_dims [1] collapsed_slice_dims [0] start_index_map [0] operand_batching_dims [] start_indices_batching_dims [] slice_sizes [1, 8] mode 1 indices_are_sorted false unique_indices false fill_value 1.5 : f32 : (tensor<4x8xf32>, tensor<2x1xi32>) -> tensor<2x8xf32>
  // CHECK-NEXT: %2 = lax.scatter_add %x, %idx, %upd update_window_dims [1] inserted_window_dims [0] scatter_dims_to_operand_dims [0] operand_batching_dims [] scatter_indices_batching_dims [] mode 2 indices_are_sorted true unique_indices true : (tensor<4x8xf32>, tensor<2x1xi32>, tensor<2x8xf32>) -> tensor<4x8xf32>
  %2 = lax.scatter_add %x, %idx, %upd update_window_dims [1] inserted_window_dims [0] scatter_dims_to_operand_dims [0] operand_batching_dims [] scatter_indices_batching_dims [] mode 2 indices_are_sorted true unique_indices true : (tensor<4x8xf32>, tensor<2x1xi32>, tensor<2x8xf32>) -> tensor<4x8xf32>
  func.return %0, %2 : tensor<2x8xf32>, tensor<4x8xf32>
}

// CHECK-LABEL: func.func @reductions
func.func @reductions(%x: tensor<4x8xf32>, %y: tensor<8x16xf32>, %b: tensor<2x4x8xf32>) -> (tensor<4xf32>, tensor<8xi32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x16xf32>, tensor<2x4x4xf32>) {
  // CHECK-NEXT: %0 = lax.reduce_sum %x axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  %0 = lax.reduce_sum %x axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  // CHECK-NEXT: %1 = lax.reduce_max %x axes [0, 1] : tensor<4x8xf32> -> tensor<f32>
  %1 = lax.reduce_max %x axes [0, 1] : tensor<4x8xf32> -> tensor<f32>
  // CHECK-NEXT: %2 = lax.argmax %x axes [0] : tensor<4x8xf32> -> tensor<8xi32>
  %2 = lax.argmax %x axes [0] : tensor<4x8xf32> -> tensor<8xi32>
  // CHECK-NEXT: %3 = lax.cumsum %x axis 1 reverse false : tensor<4x8xf32>
  %3 = lax.cumsum %x axis 1 reverse false : tensor<4x8xf32>
  // CHECK-NEXT: %4 = lax.cummax %3 axis 0 reverse true : tensor<4x8xf32>
  %4 = lax.cummax %3 axis 0 reverse true : tensor<4x8xf32>
  // CHECK-NEXT: %5, %6 = lax.sort %x, %4 dimension 1 is_stable true num_keys 1 : (tensor<4x8xf32>, tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>)
  %5, %6 = lax.sort %x, %4 dimension 1 is_stable true num_keys 1 : (tensor<4x8xf32>, tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>)
  // CHECK-NEXT: %7, %8 = lax.top_k %x k 3 : tensor<4x8xf32> -> (tensor<4x3xf32>, tensor<4x3xi32>)
  %7, %8 = lax.top_k %x k 3 : tensor<4x8xf32> -> (tensor<4x3xf32>, tensor<4x3xi32>)
  // CHECK-NEXT: %9 = lax.dot_general %x, %y lhs_contracting [1] rhs_contracting [0] lhs_batch [] rhs_batch [] : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %9 = lax.dot_general %x, %y lhs_contracting [1] rhs_contracting [0] lhs_batch [] rhs_batch [] : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  // CHECK-NEXT: %10 = lax.dot_general %b, %b lhs_contracting [2] rhs_contracting [2] lhs_batch [0] rhs_batch [0] precision "Precision.HIGHEST" : (tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x4xf32>
  %10 = lax.dot_general %b, %b lhs_contracting [2] rhs_contracting [2] lhs_batch [0] rhs_batch [0] precision "Precision.HIGHEST" : (tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x4xf32>
  func.return %0, %2, %5, %6, %9, %10 : tensor<4xf32>, tensor<8xi32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x16xf32>, tensor<2x4x4xf32>
}

// CHECK-LABEL: func.func @generic
func.func @generic(%x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK-NEXT: %0 = lax.generic "erf_inv" %x params {} : tensor<4xf32>
  %0 = lax.generic "erf_inv" %x params {} : tensor<4xf32>
  // CHECK-NEXT: %1 = lax.generic "custom_thing" %0 params {alpha = 5.000000e-01 : f64, mode = "fast"} {tag = 1 : i64} : tensor<4xf32>
  %1 = lax.generic "custom_thing" %0 params {alpha = 0.5 : f64, mode = "fast"} {tag = 1} : tensor<4xf32>
  func.return %1 : tensor<4xf32>
}

// The generic form spells properties out; it parses back into the same ops.
// GENERIC: "lax.integer_pow"(%{{.*}}) <{y = 3 : i64}> : (tensor<4x8xf32>) -> tensor<4x8xf32>
// GENERIC: "lax.reduce_sum"(%{{.*}}) <{axes = array<i64: 1>}> : (tensor<4x8xf32>) -> tensor<4xf32>
// GENERIC: "lax.cumsum"(%{{.*}}) <{axis = 1 : i64, reverse = false}> : (tensor<4x8xf32>) -> tensor<4x8xf32>

// Source locations (the user's Python lines) survive parsing and print with --print-debuginfo.
// LOC-LABEL: func.func @located
// LOC: %0 = lax.tanh %x : tensor<4xf32> loc("model.py":3:4)
// LOC: %1 = lax.reduce_sum %0 axes [0] : tensor<4xf32> -> tensor<f32> loc("model.py":4:11)
func.func @located(%x: tensor<4xf32>) -> tensor<f32> {
  %0 = lax.tanh %x : tensor<4xf32> loc("model.py":3:4)
  %1 = lax.reduce_sum %0 axes [0] : tensor<4xf32> -> tensor<f32> loc("model.py":4:11)
  func.return %1 : tensor<f32>
}
