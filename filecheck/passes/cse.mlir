// RUN: tiers-opt %s -p cse | filecheck %s

// xDSL's `cse` merges equal `lax` ops (they carry the `Pure` trait): same op, operands and
// properties. Different properties or a `lax.generic` (no `Pure`, maybe effectful) stay.

// CHECK-LABEL: func.func @merge
func.func @merge(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4xf32>, tensor<8xf32>) {
  %0 = lax.exp %x : tensor<4x8xf32>
  %1 = lax.exp %x : tensor<4x8xf32>
  %2 = lax.add %0, %1 : tensor<4x8xf32>
  %3 = lax.reduce_sum %2 axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  %4 = lax.reduce_sum %2 axes [1] : tensor<4x8xf32> -> tensor<4xf32>
  %5 = lax.add %3, %4 : tensor<4xf32>
  %6 = lax.reduce_sum %2 axes [0] : tensor<4x8xf32> -> tensor<8xf32>
  %7 = lax.constant dense<1.0> : tensor<4x8xf32>
  %8 = lax.constant dense<1.0> : tensor<4x8xf32>
  %9 = lax.mul %7, %8 : tensor<4x8xf32>
  %10 = lax.add %2, %9 : tensor<4x8xf32>
  func.return %10, %5, %6 : tensor<4x8xf32>, tensor<4xf32>, tensor<8xf32>
}
// CHECK-NEXT:    %0 = lax.exp %x : tensor<4x8xf32>
// CHECK-NEXT:    %1 = lax.add %0, %0 : tensor<4x8xf32>
// CHECK-NEXT:    %2 = lax.reduce_sum %1 axes [1] : tensor<4x8xf32> -> tensor<4xf32>
// CHECK-NEXT:    %3 = lax.add %2, %2 : tensor<4xf32>
// CHECK-NEXT:    %4 = lax.reduce_sum %1 axes [0] : tensor<4x8xf32> -> tensor<8xf32>
// CHECK-NEXT:    %5 = lax.constant dense<1.000000e+00> : tensor<4x8xf32>
// CHECK-NEXT:    %6 = lax.mul %5, %5 : tensor<4x8xf32>
// CHECK-NEXT:    %7 = lax.add %1, %6 : tensor<4x8xf32>
// CHECK-NEXT:    func.return %7, %3, %4 : tensor<4x8xf32>, tensor<4xf32>, tensor<8xf32>

// CHECK-LABEL: func.func @opaque
func.func @opaque(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %0 = lax.generic "erf_inv" %x params {} : tensor<4xf32>
  %1 = lax.generic "erf_inv" %x params {} : tensor<4xf32>
  func.return %0, %1 : tensor<4xf32>, tensor<4xf32>
}
// CHECK-NEXT:    %0 = lax.generic "erf_inv" %x params {} : tensor<4xf32>
// CHECK-NEXT:    %1 = lax.generic "erf_inv" %x params {} : tensor<4xf32>
// CHECK-NEXT:    func.return %0, %1 : tensor<4xf32>, tensor<4xf32>
